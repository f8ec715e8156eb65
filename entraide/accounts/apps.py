from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "entraide.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from allauth.account.decorators import secure_admin_login
        from django.contrib import admin

        from entraide.accounts import receivers  # noqa: F401 (connects them)

        # The admin site's own login form would skip allauth's: its second step, the lockout.
        admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
