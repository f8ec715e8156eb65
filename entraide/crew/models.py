"""Crew relief: the crew of a programme's suspended productions, paid from their rosters
with no application (N weeks of their pay, within a cap), after four eyes."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from entraide.core.crypto import BlindIndexField, EncryptedTextField


class CrewReliefSettings(models.Model):
    """How a programme pays crews: how many weeks of pay, how a day rate makes a week, the
    most one person receives, and whether a person on several rosters is paid for each."""

    programme = models.OneToOneField(
        "programmes.Programme",
        verbose_name=_("programme"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    weeks = models.PositiveSmallIntegerField(
        _("weeks of pay"), default=2, validators=[MinValueValidator(1), MaxValueValidator(52)]
    )
    days_per_week = models.PositiveSmallIntegerField(
        _("days in a week of pay"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(7)],
        help_text=_("A day rate is paid for this many days a week."),
    )
    cap = models.DecimalField(
        _("most paid to one person"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_(
            "In the programme's currency, converted at the rate of the day into the "
            "production's. Empty: no cap."
        ),
    )
    several_productions = models.BooleanField(
        _("paid for each production"),
        default=False,
        help_text=_(
            "A person on the rosters of several suspended productions is paid for each, "
            "within the cap in all. Otherwise once, for the first production proposed."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("crew relief settings")
        verbose_name_plural = _("crew relief settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cap__isnull=True) | models.Q(cap__gt=0),
                name="crew_settings_cap_positive",
            )
        ]

    def __str__(self) -> str:
        return str(self.programme_id)


class Production(models.Model):
    """A production of the donor's, suspended on a day; its crew comes from its rosters."""

    programme = models.ForeignKey(
        "programmes.Programme",
        verbose_name=_("programme"),
        on_delete=models.PROTECT,
        related_name="productions",
    )
    code = models.CharField(_("production's reference"), max_length=60)
    title = models.CharField(_("title"), max_length=200)
    country = models.CharField(_("country"), max_length=2)
    currency = models.CharField(_("currency"), max_length=3)
    suspended_on = models.DateField(_("suspended on"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("production")
        verbose_name_plural = _("productions")
        ordering = ("suspended_on", "code")
        constraints = [
            models.UniqueConstraint(fields=["programme", "code"], name="production_code_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class RosterImport(models.Model):
    """One roster file imported, once: how many lines it had, how many were kept, and each
    line refused with its reason."""

    programme = models.ForeignKey(
        "programmes.Programme",
        verbose_name=_("programme"),
        on_delete=models.PROTECT,
        related_name="roster_imports",
    )
    file_name = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    imported_at = models.DateTimeField(_("imported at"))
    rows = models.PositiveIntegerField(_("lines read"), default=0)
    accepted = models.PositiveIntegerField(_("crew members kept"), default=0)
    # [{"line": 12, "field": "iban", "message": "..."}], in the order of the file.
    problems = models.JSONField(_("lines refused"), default=list, blank=True)

    class Meta:
        verbose_name = _("roster import")
        verbose_name_plural = _("roster imports")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "sha256"], name="roster_import_once_per_programme"
            )
        ]

    def __str__(self) -> str:
        return self.file_name


class CrewMember(models.Model):
    """One line of a production's roster: who, in what role, at what pay, paid where."""

    roster = models.ForeignKey(
        RosterImport, verbose_name=_("roster"), on_delete=models.PROTECT, related_name="crew"
    )
    production = models.ForeignKey(
        Production, verbose_name=_("production"), on_delete=models.PROTECT, related_name="crew"
    )
    line = models.PositiveIntegerField(_("line"))
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    birth_date = models.DateField(_("date of birth"))
    email = models.EmailField(_("e-mail address"), blank=True)
    national_id = EncryptedTextField(
        _("national identifier"),
        max_length=30,
        blank=True,
        help_text=_("The social security number in France (checked), or the country's own."),
    )
    national_id_index = BlindIndexField(source="national_id", kind="national_id")
    role = models.CharField(_("role"), max_length=100)
    weekly_rate = models.DecimalField(
        _("weekly rate"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    day_rate = models.DecimalField(
        _("day rate"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3)
    iban = EncryptedTextField(_("IBAN"), max_length=34)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    account_holder = models.CharField(_("account holder"), max_length=140)
    language = models.CharField(_("language"), max_length=8, default="fr")
    # The same for the same person on every roster of the programme: the country and national
    # identifier when given, otherwise the normalised names and the date of birth.
    person_key = models.CharField(_("person"), max_length=64)

    class Meta:
        verbose_name = _("crew member")
        verbose_name_plural = _("crew members")
        ordering = ("production", "last_name", "first_name", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=["production", "person_key"], name="crew_member_once_per_production"
            ),
            models.CheckConstraint(
                condition=models.Q(weekly_rate__gt=0) | models.Q(day_rate__gt=0),
                name="crew_member_has_a_rate",
            ),
        ]
        indexes = [
            models.Index(fields=["person_key"]),
            models.Index(fields=["national_id_index"], name="crew_member_national_id"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.production_id})"


class ReliefRun(models.Model):
    """The pay of the crew of some productions, computed under the programme's settings of
    the day, proposed by one person and approved by another before anything is paid."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", pgettext_lazy("relief run", "Waiting for a second person")
        APPROVED = "approved", pgettext_lazy("relief run", "Approved")
        REJECTED = "rejected", pgettext_lazy("relief run", "Rejected")

    reference = models.CharField(_("reference"), max_length=20, unique=True)
    programme = models.ForeignKey(
        "programmes.Programme",
        verbose_name=_("programme"),
        on_delete=models.PROTECT,
        related_name="relief_runs",
    )
    productions = models.ManyToManyField(
        Production, verbose_name=_("productions"), related_name="runs"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PROPOSED
    )
    # The programme's settings when it was computed: the run is paid as it was proposed.
    weeks = models.PositiveSmallIntegerField(_("weeks of pay"))
    days_per_week = models.PositiveSmallIntegerField(_("days in a week of pay"))
    cap = models.DecimalField(
        _("most paid to one person"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    several_productions = models.BooleanField(_("paid for each production"))
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    proposed_at = models.DateTimeField(_("proposed at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    # When the worker has turned every payout into an award of the crew relief fund.
    awarded_at = models.DateTimeField(_("awards made at"), null=True, blank=True)

    class Meta:
        verbose_name = _("crew relief run")
        verbose_name_plural = _("crew relief runs")
        ordering = ("-proposed_at",)
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="proposed")
                | (
                    models.Q(decided_by__isnull=False)
                    & ~models.Q(decided_by=models.F("proposed_by"))
                ),
                name="relief_run_four_eyes",
            )
        ]

    def __str__(self) -> str:
        return self.reference


class Payout(models.Model):
    """What one crew member of one production is paid in a run, and why: their rate, the
    weeks, the cap (with the rate that converted it), or why nothing."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", pgettext_lazy("payout", "Proposed")
        EXCLUDED = "excluded", pgettext_lazy("payout", "Not paid")
        AWARDED = "awarded", pgettext_lazy("payout", "Awarded")
        WITHDRAWN = "withdrawn", pgettext_lazy("payout", "Run rejected")

    class Reason(models.TextChoices):
        ALREADY_PAID = "already_paid", pgettext_lazy("payout", "Already paid in the programme")
        CAP_REACHED = "cap_reached", pgettext_lazy("payout", "Cap already reached")
        NO_FUND = "no_fund", pgettext_lazy("payout", "No crew relief fund in this currency")
        NO_RATE = "no_rate", pgettext_lazy("payout", "No exchange rate for the cap")
        BY_REVIEWER = "by_reviewer", pgettext_lazy("payout", "Left out by a reviewer")

    LIVE = (Status.PROPOSED, Status.AWARDED)

    run = models.ForeignKey(
        ReliefRun, verbose_name=_("run"), on_delete=models.PROTECT, related_name="payouts"
    )
    programme = models.ForeignKey(
        "programmes.Programme",
        verbose_name=_("programme"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    crew_member = models.ForeignKey(
        CrewMember, verbose_name=_("crew member"), on_delete=models.PROTECT, related_name="payouts"
    )
    production = models.ForeignKey(
        Production, verbose_name=_("production"), on_delete=models.PROTECT, related_name="+"
    )
    # The person, or the person on this production when the programme pays each production:
    # the database holds one live payout per key, so no one is paid twice, whatever the race.
    exclusive_key = models.CharField(_("paid once per"), max_length=130)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PROPOSED
    )
    reason = models.CharField(_("why not paid"), max_length=20, choices=Reason.choices, blank=True)
    note = EncryptedTextField(_("note"), max_length=300, blank=True)
    weekly_pay = models.DecimalField(_("a week of pay"), max_digits=12, decimal_places=2)
    computed = models.DecimalField(_("weeks of pay"), max_digits=14, decimal_places=2)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    # The cap in the production's currency and the conversion that gave it (a sentence naming
    # the rates), empty without a cap.
    cap = models.DecimalField(
        _("cap in this currency"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    cap_conversion = models.CharField(_("conversion of the cap"), max_length=300, blank=True)
    rates_used = models.ManyToManyField(
        "programmes.ExchangeRate", verbose_name=_("rates read"), blank=True, related_name="+"
    )
    # The amount in the programme's currency, at the same rate: what counts against the cap.
    programme_amount = models.DecimalField(
        _("amount in the programme's currency"), max_digits=14, decimal_places=2
    )
    fund = models.ForeignKey(
        "funds.Fund",
        verbose_name=_("paid by fund"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    application = models.OneToOneField(
        "applications.Application",
        verbose_name=_("record of the grant"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="crew_payout",
    )

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        ordering = ("run", "production", "crew_member")
        constraints = [
            models.UniqueConstraint(fields=["run", "crew_member"], name="payout_once_per_run"),
            models.UniqueConstraint(
                fields=["programme", "exclusive_key"],
                condition=models.Q(status__in=["proposed", "awarded"]),
                name="payout_never_twice",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="payout_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["proposed", "awarded"]) | models.Q(amount__gt=0),
                name="payout_live_is_positive",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="excluded") | ~models.Q(reason=""),
                name="payout_excluded_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["run", "status"])]

    def __str__(self) -> str:
        return f"{self.run_id}: {self.crew_member_id} {self.amount} {self.currency}"
