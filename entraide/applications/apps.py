from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class ApplicationsConfig(AppConfig):
    name = "entraide.applications"
    label = "applications"
    verbose_name = _("Applications")

    def ready(self) -> None:
        from entraide.applications.search import register_sqlite_functions

        connection_created.connect(register_sqlite_functions, dispatch_uid="entraide_fold_name")
