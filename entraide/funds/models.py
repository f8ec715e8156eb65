from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from entraide.core.money import CURRENCY_CHOICES


class Fund(models.Model):
    """One relief fund run by one operator: budget, currency, application window, staff."""

    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("who it is for"), blank=True)
    programme = models.ForeignKey(
        "programmes.Programme",
        verbose_name=_("programme"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="funds",
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    budget = models.DecimalField(_("budget"), max_digits=14, decimal_places=2)
    standard_amount = models.DecimalField(_("standard grant"), max_digits=14, decimal_places=2)
    opens_on = models.DateField(_("applications open on"))
    closes_on = models.DateField(_("applications close on"))
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("fund")
        verbose_name_plural = _("funds")
        ordering = ("-opens_on", "name")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(budget__gte=0), name="fund_budget_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(standard_amount__gt=0), name="fund_standard_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(closes_on__gte=models.F("opens_on")), name="fund_window_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def local_today(self, now: dt.datetime | None = None) -> dt.date:
        return (now or timezone.now()).astimezone(ZoneInfo(self.time_zone)).date()

    def is_open(self, now: dt.datetime | None = None) -> bool:
        """The window is inclusive at both ends, in the fund's own time zone."""
        return self.opens_on <= self.local_today(now) <= self.closes_on


class FundRole(models.Model):
    class Role(models.TextChoices):
        OPERATOR_ADMIN = "operator_admin", pgettext_lazy("fund role", "Operator admin")
        REVIEWER = "reviewer", pgettext_lazy("fund role", "Reviewer")
        APPROVER = "approver", pgettext_lazy("fund role", "Approver")
        FINANCE = "finance", pgettext_lazy("fund role", "Finance")
        AUDITOR = "auditor", pgettext_lazy("fund role", "Auditor")

    fund = models.ForeignKey(
        Fund, verbose_name=_("fund"), on_delete=models.CASCADE, related_name="roles"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="fund_roles",
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("fund role")
        verbose_name_plural = _("fund roles")
        constraints = [
            models.UniqueConstraint(fields=["fund", "user", "role"], name="fund_role_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.fund}"
