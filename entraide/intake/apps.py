from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "entraide.intake"
    label = "intake"
    verbose_name = _("Partner intake")

    def ready(self) -> None:
        from entraide.applications.signals import application_status_changed
        from entraide.intake import receivers

        application_status_changed.connect(
            receivers.queue_status_webhook, dispatch_uid="intake.queue_status_webhook"
        )
