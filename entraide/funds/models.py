from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from entraide.core.crypto import INDEX_LENGTH
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
    # The budget the fund opened with (its first ledger credit); what it holds now, with its
    # top-ups and awards, is the ledger's (BudgetEntry).
    budget = models.DecimalField(_("initial budget"), max_digits=14, decimal_places=2)
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

    class AwardOrder(models.TextChoices):
        REVIEW = "review", pgettext_lazy("award order", "In the order of approval")
        SUBMISSION = (
            "submission",
            pgettext_lazy("award order", "First come, first served (by submission time)"),
        )

    class Kind(models.TextChoices):
        APPLICATIONS = "applications", pgettext_lazy("fund kind", "Applications")
        CREW_RELIEF = "crew_relief", pgettext_lazy("fund kind", "Crew relief")

    # A crew relief fund takes no application: it pays the crew of a programme's suspended
    # productions from their rosters (entraide.crew), in its currency, through its budget.
    kind = models.CharField(
        _("kind"), max_length=20, choices=Kind.choices, default=Kind.APPLICATIONS
    )
    award_order = models.CharField(
        _("awards are funded"),
        max_length=20,
        choices=AwardOrder.choices,
        default=AwardOrder.REVIEW,
        help_text=_(
            "When the budget runs out, approved applications wait in this order for a top-up."
        ),
    )
    second_approval_above = models.DecimalField(
        _("second approval above"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_(
            "An approval of more than this amount needs a second person with the approver "
            "role. Empty: only overrides of the rules and changed amounts need one."
        ),
    )

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


class BudgetEntry(models.Model):
    """One line of a fund's budget ledger, in the fund's currency.

    The ledger is append-only. Each line carries the fund's totals after it (``credited``,
    ``committed``, ``paid``), computed from the line before it under the fund's row lock; the
    database refuses a line that would commit more than was credited, and two lines with the
    same number, so no interleaving of writers can overspend. What is left is
    ``credited - committed``.
    """

    class Kind(models.TextChoices):
        CREDIT = "credit", pgettext_lazy("budget entry", "Budget credited")
        RESERVATION = "reservation", pgettext_lazy("budget entry", "Award reserved")
        RELEASE = "release", pgettext_lazy("budget entry", "Award released")
        PAYMENT = "payment", pgettext_lazy("budget entry", "Award paid")
        RETURN = "return", pgettext_lazy("budget entry", "Payment returned")

    fund = models.ForeignKey(
        Fund, verbose_name=_("fund"), on_delete=models.PROTECT, related_name="budget_entries"
    )
    sequence = models.PositiveBigIntegerField(_("number"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    award = models.ForeignKey(
        "funds.Award",
        verbose_name=_("award"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    credited = models.DecimalField(_("credited in all"), max_digits=16, decimal_places=2)
    committed = models.DecimalField(_("committed in all"), max_digits=16, decimal_places=2)
    paid = models.DecimalField(_("paid in all"), max_digits=16, decimal_places=2)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("budget entry")
        verbose_name_plural = _("budget entries")
        ordering = ("fund", "sequence")
        constraints = [
            models.UniqueConstraint(fields=["fund", "sequence"], name="budget_entry_sequence"),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="budget_entry_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(paid__gte=0)
                & models.Q(committed__gte=models.F("paid"))
                & models.Q(credited__gte=models.F("committed")),
                name="budget_entry_never_overspent",
            ),
            # A payment entry without an award is a whole batch's (its note names it).
            models.CheckConstraint(
                condition=models.Q(kind__in=["credit", "payment"]) | models.Q(award__isnull=False),
                name="budget_entry_award_has_award",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fund_id}#{self.sequence} {self.kind} {self.amount}"

    @property
    def left(self) -> Decimal:
        return self.credited - self.committed


class Award(models.Model):
    """The amount granted to an application, reserved against the fund's budget.

    An approval that the budget cannot cover yet waits (``waitlisted``) in the fund's award
    order (``queued_at``, then ``id``) until a top-up funds it. One person has at most one
    live award per fund, and per programme when the fund belongs to one.
    """

    class Status(models.TextChoices):
        WAITLISTED = "waitlisted", pgettext_lazy("award status", "Waiting for budget")
        RESERVED = "reserved", pgettext_lazy("award status", "Reserved")
        PAID = "paid", pgettext_lazy("award status", "Paid")
        RELEASED = "released", pgettext_lazy("award status", "Released")

    LIVE = (Status.WAITLISTED, Status.RESERVED, Status.PAID)

    application = models.OneToOneField(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="award",
    )
    fund = models.ForeignKey(
        Fund, verbose_name=_("fund"), on_delete=models.PROTECT, related_name="awards"
    )
    # The fund's programme, copied so that the database can hold one award per person in it.
    programme = models.ForeignKey(
        "programmes.Programme",
        verbose_name=_("programme"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="awards",
    )
    # The blind index of the application's personal identifier, whatever its kind
    # (applications.identity): enough to hold one award per person, never the identifier.
    nir_index = models.CharField(_("person (blind index)"), max_length=INDEX_LENGTH)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The approval it comes from, for the decision made when a waiting award is funded: the
    # first person of four eyes, and the rule version the approval was made under.
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rule_version = models.ForeignKey(
        "rules.RuleSetVersion",
        verbose_name=_("rule version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    queued_at = models.DateTimeField(_("place in the queue"))
    created_at = models.DateTimeField(_("created at"))
    reserved_at = models.DateTimeField(_("reserved at"), null=True, blank=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)

    class Meta:
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="award_amount_positive"),
            models.UniqueConstraint(
                fields=["fund", "nir_index"],
                condition=models.Q(status__in=["waitlisted", "reserved", "paid"]),
                name="award_one_per_person_per_fund",
            ),
            models.UniqueConstraint(
                fields=["programme", "nir_index"],
                condition=models.Q(status__in=["waitlisted", "reserved", "paid"])
                & models.Q(programme__isnull=False),
                name="award_one_per_person_per_programme",
            ),
        ]
        indexes = [models.Index(fields=["fund", "status", "queued_at", "id"])]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.amount} {self.currency} ({self.status})"
