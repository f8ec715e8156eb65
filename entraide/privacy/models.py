"""Privacy: each fund's retention policy, the erasure requests and what erasure did to each
application, and the scheduler's claims on its periodic runs.

Nothing here holds a person's data: an erasure request names an application (its row keeps only
what erasure keeps), an erased application records which fields were erased and which are held,
and until when.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# What a fund keeps when its operator has not changed its policy.
DEFAULT_MONTHS_AFTER_PAYMENT = 24
DEFAULT_MONTHS_AFTER_REFUSAL = 6
DEFAULT_MONTHS_AFTER_CLOSING = 3
# French Code de commerce, article L123-22: accounting documents and vouchers are kept ten
# years (from the end of the financial year, taken as the calendar year).
ACCOUNTING_HOLD_YEARS = 10


class FundRetentionPolicy(models.Model):
    """How long a fund keeps applicants' personal data once it no longer needs it."""

    fund = models.OneToOneField(
        "funds.Fund",
        verbose_name=_("fund"),
        on_delete=models.CASCADE,
        related_name="retention_policy",
    )
    months_after_payment = models.PositiveSmallIntegerField(
        _("months kept after the last payment"),
        default=DEFAULT_MONTHS_AFTER_PAYMENT,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=_(
            "Then the personal data of a paid application is erased, except what accounting "
            "law requires to keep (the beneficiary's name, IBAN, amount, payment date and "
            "reference), erased in its turn after ten years."
        ),
    )
    months_after_refusal = models.PositiveSmallIntegerField(
        _("months kept after a refusal or a withdrawal"),
        default=DEFAULT_MONTHS_AFTER_REFUSAL,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=_(
            "Counted from the decision for a refused application, from the release of the "
            "award for a grant given up."
        ),
    )
    months_after_closing = models.PositiveSmallIntegerField(
        _("months applications in progress are kept after the fund closes"),
        default=DEFAULT_MONTHS_AFTER_CLOSING,
        validators=[MinValueValidator(0), MaxValueValidator(60)],
        help_text=_("Applications started but never sent are deleted then, with their files."),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("retention policy")
        verbose_name_plural = _("retention policies")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(months_after_payment__gte=1)
                & models.Q(months_after_refusal__gte=1),
                name="retention_at_least_a_month",
            )
        ]

    def __str__(self) -> str:
        return f"{self.fund_id}: {self.months_after_payment}/{self.months_after_refusal}"


class ErasureRequest(models.Model):
    """A person's request to have their data erased (GDPR art. 17), as the applicant made it
    from the portal or as the fund's operator admin recorded it; done once every application
    of that person in the fund is erased, or held by a legal hold that is ended."""

    class Channel(models.TextChoices):
        PORTAL = "portal", pgettext_lazy("erasure channel", "The applicant's portal")
        EMAIL = "email", pgettext_lazy("erasure channel", "E-mail")
        LETTER = "letter", pgettext_lazy("erasure channel", "Letter")
        PHONE = "phone", pgettext_lazy("erasure channel", "Telephone")
        IN_PERSON = "in_person", pgettext_lazy("erasure channel", "In person")
        OTHER = "other", pgettext_lazy("erasure channel", "Other")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("erasure request", "Waiting: some data is held")
        DONE = "done", pgettext_lazy("erasure request", "Done")

    reference = models.CharField(_("reference"), max_length=20, unique=True)
    fund = models.ForeignKey(
        "funds.Fund", verbose_name=_("fund"), on_delete=models.PROTECT, related_name="+"
    )
    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("application named in the request"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.CharField(_("received by"), max_length=20, choices=Channel.choices)
    requested_on = models.DateField(_("requested on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: the applicant asked from the portal."),
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    # Per application reference: {"outcome": ..., "hold_until": ...} (entraide.privacy.services).
    outcome = models.JSONField(_("what was done"), default=dict, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("erasure request")
        verbose_name_plural = _("erasure requests")
        ordering = ("-recorded_at", "-pk")
        indexes = [models.Index(fields=["fund", "status", "recorded_at"])]

    def __str__(self) -> str:
        return self.reference


class ErasedApplication(models.Model):
    """What erasure did to one application: erased, with the fields held by law until when."""

    class Cause(models.TextChoices):
        REQUEST = "request", pgettext_lazy("erasure cause", "The person's request")
        RETENTION = "retention", pgettext_lazy("erasure cause", "The fund's retention policy")

    class Hold(models.TextChoices):
        NONE = "", pgettext_lazy("legal hold", "None")
        ACCOUNTING = "accounting", pgettext_lazy("legal hold", "Accounting records (10 years)")

    application = models.OneToOneField(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    fund = models.ForeignKey(
        "funds.Fund", verbose_name=_("fund"), on_delete=models.PROTECT, related_name="+"
    )
    erased_at = models.DateTimeField(_("erased at"))
    cause = models.CharField(_("cause"), max_length=20, choices=Cause.choices)
    request = models.ForeignKey(
        ErasureRequest,
        verbose_name=_("request"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="erased",
    )
    hold = models.CharField(_("legal hold"), max_length=20, choices=Hold.choices, blank=True)
    hold_until = models.DateField(_("held until"), null=True, blank=True)
    hold_ended_at = models.DateTimeField(_("held data erased at"), null=True, blank=True)

    class Meta:
        verbose_name = _("erased application")
        verbose_name_plural = _("erased applications")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hold="", hold_until__isnull=True)
                | (~models.Q(hold="") & models.Q(hold_until__isnull=False)),
                name="erased_hold_has_an_end",
            )
        ]
        indexes = [models.Index(fields=["hold", "hold_ended_at", "hold_until"])]

    def __str__(self) -> str:
        return f"{self.application_id} ({self.hold or 'erased'})"


class ScheduledRun(models.Model):
    """One run of a periodic task, claimed by the scheduler that enqueued it: the unique
    (name, due_at) means several scheduler processes never enqueue one period twice
    (entraide.core.schedule)."""

    name = models.CharField(_("periodic task"), max_length=100)
    due_at = models.DateTimeField(_("period starting at"))
    enqueued_at = models.DateTimeField(_("enqueued at"))
    task_id = models.CharField(_("task"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("scheduled run")
        verbose_name_plural = _("scheduled runs")
        constraints = [
            models.UniqueConstraint(fields=["name", "due_at"], name="scheduled_run_once")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.due_at:%Y-%m-%d %H:%M}"


class DataDownload(models.Model):
    """An applicant's download of their own data (GDPR art. 15 and 20): when, and how much."""

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    downloaded_at = models.DateTimeField(_("downloaded at"))
    applications = models.PositiveIntegerField(_("applications"))
    documents = models.PositiveIntegerField(_("documents"))

    class Meta:
        verbose_name = _("data download")
        verbose_name_plural = _("data downloads")

    def __str__(self) -> str:
        return f"D{self.pk}"
