from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "entraide.privacy"
    label = "privacy"
    verbose_name = _("Privacy")

    def ready(self) -> None:
        # The retention policies are applied once a day by the scheduler (entraide.core.schedule).
        from entraide.core import schedule
        from entraide.privacy.tasks import apply_retention

        schedule.register("privacy.apply_retention", apply_retention, period=schedule.DAILY)
