from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrewConfig(AppConfig):
    name = "entraide.crew"
    label = "crew"
    verbose_name = _("Crew relief")
