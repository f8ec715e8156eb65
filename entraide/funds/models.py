from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from entraide.core.money import CURRENCY_CHOICES
from entraide.funds.window import is_open_at


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
    # The window opens at opens_on + opening_time and closes at closes_on + closing_time, on
    # the fund's clock (time_zone); the closing minute is still open (entraide.funds.window).
    opening_time = models.TimeField(_("applications open at"), default=dt.time(0, 0))
    closing_time = models.TimeField(_("applications close at"), default=dt.time(23, 59))
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # The public page's own texts, in both languages; blank: generated from the rules or a
    # default text (entraide.funds.public).
    summary_fr = models.TextField(_("who it is for (French)"), blank=True)
    summary_en = models.TextField(_("who it is for (English)"), blank=True)
    privacy_notice_fr = models.TextField(_("privacy notice (French)"), blank=True)
    privacy_notice_en = models.TextField(_("privacy notice (English)"), blank=True)
    operator_name = models.CharField(_("operator"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail address"), blank=True)

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
                condition=models.Q(closes_on__gt=models.F("opens_on"))
                | models.Q(
                    closes_on=models.F("opens_on"), closing_time__gte=models.F("opening_time")
                ),
                name="fund_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def local_today(self, now: dt.datetime | None = None) -> dt.date:
        return (now or timezone.now()).astimezone(ZoneInfo(self.time_zone)).date()

    def is_open(self, now: dt.datetime | None = None) -> bool:
        """From the opening instant to the end of the closing minute, on the fund's clock."""
        return is_open_at(self, now)


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


class FundDocumentRequirement(models.Model):
    """A document the fund asks applicants for, as its public page lists it."""

    fund = models.ForeignKey(
        Fund,
        verbose_name=_("fund"),
        on_delete=models.CASCADE,
        related_name="document_requirements",
    )
    code = models.SlugField(
        _("code"),
        max_length=60,
        help_text=_("A short identifier that stays the same when the wording changes."),
    )
    label_fr = models.CharField(_("document (French)"), max_length=200)
    label_en = models.CharField(_("document (English)"), max_length=200)
    help_fr = models.TextField(_("explanation (French)"), blank=True)
    help_en = models.TextField(_("explanation (English)"), blank=True)
    required = models.BooleanField(_("required"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("document requirement")
        verbose_name_plural = _("document requirements")
        ordering = ("position", "pk")
        constraints = [
            models.UniqueConstraint(fields=["fund", "code"], name="fund_document_code_unique")
        ]

    def __str__(self) -> str:
        return self.code


class FundQuestion(models.Model):
    """A question of the public page's FAQ, with its answer."""

    fund = models.ForeignKey(
        Fund, verbose_name=_("fund"), on_delete=models.CASCADE, related_name="faq"
    )
    question_fr = models.CharField(_("question (French)"), max_length=300)
    question_en = models.CharField(_("question (English)"), max_length=300)
    answer_fr = models.TextField(_("answer (French)"))
    answer_en = models.TextField(_("answer (English)"))
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("frequently asked question")
        verbose_name_plural = _("frequently asked questions")
        ordering = ("position", "pk")

    def __str__(self) -> str:
        return self.question_en
