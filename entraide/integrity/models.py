from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from entraide.core.crypto import EncryptedTextField


class IntegritySettings(models.Model):
    """How a fund's duplicate and fraud checks decide what to flag (defaults until changed)."""

    fund = models.OneToOneField(
        "funds.Fund", verbose_name=_("fund"), on_delete=models.CASCADE, related_name="+"
    )
    duplicate_threshold = models.DecimalField(
        _("match weight of a possible duplicate"),
        max_digits=5,
        decimal_places=2,
        default=10,
        help_text=_(
            "Two applications scoring at least this match weight are flagged as possibly the "
            "same person. 10 means about 1,000 to 1 that they are; lower finds more duplicates "
            "and more false alarms."
        ),
    )
    listed_threshold = models.DecimalField(
        _("match weight of a resemblance"),
        max_digits=5,
        decimal_places=2,
        default=5,
        # Lower, a full check would keep millions of unlike pairs (all those born one day).
        validators=[MinValueValidator(0)],
        help_text=_(
            "Pairs between this weight and the duplicate threshold are shown on the "
            "application's page, without a flag."
        ),
    )
    flag_shared_account = models.BooleanField(
        _("flag a bank account shared by different people"), default=True
    )
    flag_shared_contact = models.BooleanField(
        _("flag an e-mail address or telephone shared by different people"), default=True
    )
    origin_window_minutes = models.PositiveIntegerField(
        _("window of submissions from one device (minutes)"), default=30
    )
    origin_burst = models.PositiveSmallIntegerField(
        _("submissions from one device within the window that raise a flag"),
        default=3,
        help_text=_("A household may apply from one computer: two is not unusual."),
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
        verbose_name = _("integrity settings")
        verbose_name_plural = _("integrity settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(listed_threshold__lte=models.F("duplicate_threshold")),
                name="integrity_listed_below_duplicate",
            ),
            models.CheckConstraint(
                condition=models.Q(listed_threshold__gte=0), name="integrity_listed_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(origin_burst__gte=2), name="integrity_origin_burst_at_least_2"
            ),
        ]

    def __str__(self) -> str:
        return str(self.fund_id)


class LinkageRun(models.Model):
    """A full duplicate check of a fund's applications (with those of the other funds of its
    programme), run by the worker: the model it trained and what it found."""

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("linkage run", "Queued")
        RUNNING = "running", pgettext_lazy("linkage run", "Running")
        DONE = "done", pgettext_lazy("linkage run", "Done")
        FAILED = "failed", pgettext_lazy("linkage run", "Failed")

    fund = models.ForeignKey(
        "funds.Fund", verbose_name=_("fund"), on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    records = models.PositiveIntegerField(_("applications compared"), default=0)
    trained = models.BooleanField(
        _("model trained on these applications"),
        default=False,
        help_text=_("Too few applications to learn from: the platform's default model is used."),
    )
    model = models.JSONField(_("linkage model"), default=dict, blank=True)
    pairs = models.PositiveIntegerField(_("pairs found"), default=0)
    links_created = models.PositiveIntegerField(_("new links"), default=0)
    flags_raised = models.PositiveIntegerField(_("flags raised"), default=0)
    crowded = models.JSONField(
        _("values shared by too many applications"),
        default=list,
        blank=True,
        help_text=_("Listed rather than linked pair by pair."),
    )
    group_count = models.PositiveIntegerField(
        _("groups of applications that may be one person"), default=0
    )
    # The largest of those groups (three applications or more), as lists of application ids.
    groups = models.JSONField(_("largest groups"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("duplicate check")
        verbose_name_plural = _("duplicate checks")
        indexes = [models.Index(fields=["fund", "status", "finished_at"])]

    def __str__(self) -> str:
        return f"{self.fund_id}: {self.requested_at:%Y-%m-%d %H:%M}"


class Link(models.Model):
    """Two applications that may be the same person, or that share what different people
    should not share (a bank account, an e-mail address, a telephone, a device): the reasons,
    the probabilistic score with its evidence per field, and the reviewer's decision."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("integrity link", "To review")
        CONFIRMED = "confirmed", pgettext_lazy("integrity link", "Same person")
        DISMISSED = "dismissed", pgettext_lazy("integrity link", "Different people")

    left = models.ForeignKey(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    right = models.ForeignKey(
        "applications.Application",
        verbose_name=_("other application"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    # Copied from the applications so that a fund's queue reads one index.
    left_fund = models.ForeignKey(
        "funds.Fund", verbose_name=_("fund"), on_delete=models.CASCADE, related_name="+"
    )
    right_fund = models.ForeignKey(
        "funds.Fund", verbose_name=_("other fund"), on_delete=models.CASCADE, related_name="+"
    )
    # What the two share exactly: nir, iban, email, phone (entraide.integrity.signals.REASONS).
    reasons = models.JSONField(_("shared identifiers"), default=list, blank=True)
    match_weight = models.FloatField(_("match weight"), null=True, blank=True)
    match_probability = models.FloatField(_("match probability"), null=True, blank=True)
    # [{"field": "name", "level": 4, "weight": 3.2}, …]: entraide.integrity.linkage.FieldEvidence
    evidence = models.JSONField(_("evidence per field"), default=list, blank=True)
    flagged = models.BooleanField(_("flagged"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    found_at = models.DateTimeField(_("found at"))
    scored_at = models.DateTimeField(_("scored at"))
    # The full check that found it (none: the check of a new application).
    run = models.ForeignKey(
        LinkageRun,
        verbose_name=_("found by the check"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = EncryptedTextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("link between applications")
        verbose_name_plural = _("links between applications")
        constraints = [
            models.UniqueConstraint(fields=["left", "right"], name="integrity_one_link_per_pair"),
            models.CheckConstraint(
                condition=models.Q(left__lt=models.F("right")), name="integrity_link_ordered"
            ),
            models.CheckConstraint(
                condition=models.Q(status="open")
                | (models.Q(decided_by__isnull=False) & models.Q(decided_at__isnull=False)),
                name="integrity_link_decided_by_someone",
            ),
        ]
        indexes = [
            models.Index(fields=["left_fund", "status", "flagged"], name="integrity_link_left_q"),
            models.Index(fields=["right_fund", "status", "flagged"], name="integrity_link_right_q"),
            models.Index(fields=["right"], name="integrity_link_right"),
        ]

    def __str__(self) -> str:
        return f"{self.left_id}–{self.right_id}"


class Person(models.Model):
    """One person behind several applications, as reviewers confirmed: the applications stay
    as they were submitted, each linked here."""

    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return f"P{self.pk}"


class PersonRecord(models.Model):
    """An application of a confirmed person, and the confirmation that put it there."""

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="records"
    )
    application = models.OneToOneField(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    link = models.ForeignKey(
        Link,
        verbose_name=_("confirmed link"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    added_at = models.DateTimeField(_("added at"))

    class Meta:
        verbose_name = _("application of a person")
        verbose_name_plural = _("applications of a person")

    def __str__(self) -> str:
        return f"{self.person_id}: {self.application_id}"
