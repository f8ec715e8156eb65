from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    name = "entraide.evidence"
    label = "evidence"
    verbose_name = _("Evidence")

    def ready(self) -> None:
        from entraide.evidence import receivers
        from entraide.evidence.signals import evidence_changed

        evidence_changed.connect(
            receivers.queue_verification, dispatch_uid="evidence.queue_verification"
        )
