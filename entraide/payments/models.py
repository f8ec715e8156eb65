"""Payments: the fund's bank settings, payment batches and their files, bank returns, and the
changes of an applicant's bank details that finance verifies.

An award leaves the fund as one :class:`Payment` in one :class:`PaymentBatch`. The database
holds the promise "never twice": an award has at most one payment that has not failed nor been
cancelled (``payment_one_live_per_award``), and a batch has at most one file.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from entraide.core.crypto import EncryptedBinaryField, EncryptedTextField
from entraide.funds.models import Award, Fund


class FileFormat(models.TextChoices):
    PAIN_001_001_09 = "pain.001.001.09", _("SEPA credit transfer (pain.001.001.09)")
    PAIN_001_001_03 = "pain.001.001.03", _("SEPA credit transfer, former version (pain.001.001.03)")
    CSV = "csv", _("CSV file for the bank's bulk upload (outside SEPA)")


SEPA_FORMATS = frozenset({FileFormat.PAIN_001_001_09, FileFormat.PAIN_001_001_03})


def default_csv_columns() -> list[list[str]]:
    return [
        ["reference", "end_to_end_id"],
        ["beneficiary", "creditor_name"],
        ["iban", "iban"],
        ["bic", "bic"],
        ["amount", "amount"],
        ["currency", "currency"],
        ["payment_details", "remittance"],
    ]


class PaymentSettings(models.Model):
    """How a fund pays: the account money leaves from and the file its bank takes."""

    fund = models.OneToOneField(
        Fund, verbose_name=_("fund"), on_delete=models.CASCADE, related_name="payment_settings"
    )
    file_format = models.CharField(
        _("file format"),
        max_length=20,
        choices=FileFormat.choices,
        default=FileFormat.PAIN_001_001_09,
    )
    debtor_name = models.CharField(_("account holder (the fund's)"), max_length=70)
    debtor_iban = models.CharField(_("IBAN of the fund's account"), max_length=34)
    debtor_bic = models.CharField(_("BIC of the fund's bank"), max_length=11, blank=True)
    initiating_party = models.CharField(
        _("initiating party"),
        max_length=70,
        help_text=_("The name the bank knows the sender of the files by."),
    )
    initiating_party_id = models.CharField(
        _("initiating party identifier"),
        max_length=35,
        blank=True,
        help_text=_("Optional: an identifier the bank gave the sender (e.g. a SIRET)."),
    )
    execution_days = models.PositiveSmallIntegerField(
        _("execution after release (working days)"),
        default=1,
        help_text=_("The requested execution date is this many working days after the release."),
    )
    remittance_template = models.CharField(
        _("payment details"),
        max_length=140,
        default="Aide d'urgence {fund} {reference}",
        help_text=_(
            "What the applicant reads on their bank statement: {fund} is the fund's name, "
            "{reference} the award's reference (140 characters at most once filled in)."
        ),
    )
    csv_columns = models.JSONField(
        _("CSV columns"),
        default=default_csv_columns,
        help_text=_("The columns of the CSV file, each a header and the field it holds."),
    )
    csv_delimiter = models.CharField(_("CSV separator"), max_length=1, default=",")
    csv_decimal_comma = models.BooleanField(_("decimal comma in amounts"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("payment settings")
        verbose_name_plural = _("payment settings")

    def __str__(self) -> str:
        return f"{self.fund_id}: {self.file_format}"


class PaymentBatch(models.Model):
    """Awards paid together in one bank file: prepared by one person of finance, released by
    another (four eyes), its file generated once, then sent to the bank."""

    class Status(models.TextChoices):
        PREPARED = "prepared", pgettext_lazy("payment batch", "Waiting for release")
        RELEASED = "released", pgettext_lazy("payment batch", "Released, file being generated")
        READY = "ready", pgettext_lazy("payment batch", "File ready")
        SENT = "sent", pgettext_lazy("payment batch", "Sent to the bank")
        CANCELLED = "cancelled", pgettext_lazy("payment batch", "Cancelled")

    reference = models.CharField(_("reference"), max_length=20, unique=True)
    fund = models.ForeignKey(
        Fund, verbose_name=_("fund"), on_delete=models.PROTECT, related_name="payment_batches"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PREPARED
    )
    file_format = models.CharField(_("file format"), max_length=20, choices=FileFormat.choices)
    currency = models.CharField(_("currency"), max_length=3)
    count = models.PositiveIntegerField(_("transfers"))
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("prepared by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    prepared_at = models.DateTimeField(_("prepared at"))
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("released by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    execution_date = models.DateField(_("requested execution date"), null=True, blank=True)
    # The fund's payment settings as the second person released them: the file is built from
    # these, whatever is changed in the settings afterwards.
    file_settings = models.JSONField(_("file settings at release"), default=dict, blank=True)
    generation_error = models.TextField(_("why the file could not be generated"), blank=True)
    downloaded_at = models.DateTimeField(_("file first downloaded at"), null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("marked sent by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cancelled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment batch")
        verbose_name_plural = _("payment batches")
        ordering = ("-prepared_at", "-pk")
        constraints = [
            # Four eyes: the person who releases a batch is not the one who prepared it.
            models.CheckConstraint(
                condition=models.Q(released_by__isnull=True)
                | ~models.Q(released_by=models.F("prepared_by")),
                name="payment_batch_four_eyes",
            ),
            models.CheckConstraint(
                condition=models.Q(count__gt=0) & models.Q(total__gt=0),
                name="payment_batch_not_empty",
            ),
        ]
        indexes = [models.Index(fields=["fund", "status", "prepared_at"])]

    def __str__(self) -> str:
        return self.reference


class PaymentFile(models.Model):
    """The file of a released batch, generated once and kept as it was offered to the bank."""

    batch = models.OneToOneField(
        PaymentBatch, verbose_name=_("batch"), on_delete=models.PROTECT, related_name="file"
    )
    file_format = models.CharField(_("file format"), max_length=20, choices=FileFormat.choices)
    name = models.CharField(_("file name"), max_length=100)
    content = EncryptedBinaryField(_("content"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    generated_at = models.DateTimeField(_("generated at"))

    class Meta:
        verbose_name = _("payment file")
        verbose_name_plural = _("payment files")

    def __str__(self) -> str:
        return self.name


class Payment(models.Model):
    """One award's transfer in one batch, with the bank details it was sent to."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("payment", "In a batch")
        SENT = "sent", pgettext_lazy("payment", "Sent")
        CONFIRMED = "confirmed", pgettext_lazy("payment", "Confirmed by the bank")
        FAILED = "failed", pgettext_lazy("payment", "Failed")
        CANCELLED = "cancelled", pgettext_lazy("payment", "Cancelled")

    LIVE = (Status.PENDING, Status.SENT, Status.CONFIRMED)

    batch = models.ForeignKey(
        PaymentBatch, verbose_name=_("batch"), on_delete=models.PROTECT, related_name="payments"
    )
    award = models.ForeignKey(
        Award, verbose_name=_("award"), on_delete=models.PROTECT, related_name="payments"
    )
    fund = models.ForeignKey(
        Fund, verbose_name=_("fund"), on_delete=models.PROTECT, related_name="payments"
    )
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=1)
    end_to_end_id = models.CharField(_("end-to-end identifier"), max_length=35, unique=True)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    creditor_name = models.CharField(_("beneficiary"), max_length=140)
    iban = EncryptedTextField(_("IBAN"), max_length=34)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    remittance = models.CharField(_("payment details"), max_length=140)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    reason_code = models.CharField(_("bank's reason code"), max_length=35, blank=True)
    reason_detail = models.CharField(_("bank's explanation"), max_length=300, blank=True)
    bank_return = models.ForeignKey(
        "payments.BankReturn",
        verbose_name=_("bank return"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ("batch", "pk")
        constraints = [
            # Never twice: an award is in at most one batch where it has not failed.
            models.UniqueConstraint(
                fields=["award"],
                condition=models.Q(status__in=["pending", "sent", "confirmed"]),
                name="payment_one_live_per_award",
            ),
            models.UniqueConstraint(fields=["award", "attempt"], name="payment_attempt_unique"),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payment_amount_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["fund", "status"]),
            models.Index(fields=["batch", "status"]),
        ]

    def __str__(self) -> str:
        return self.end_to_end_id


class BankReturn(models.Model):
    """A bank's report imported by finance: a pain.002 status report or a camt.054
    notification, and what it did to the fund's payments."""

    class Kind(models.TextChoices):
        PAIN_002 = "pain.002", _("Payment status report (pain.002)")
        CAMT_054 = "camt.054", _("Debit/credit notification (camt.054)")

    fund = models.ForeignKey(
        Fund, verbose_name=_("fund"), on_delete=models.PROTECT, related_name="bank_returns"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    file_name = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    message_id = models.CharField(_("bank's message identifier"), max_length=35, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    imported_at = models.DateTimeField(_("imported at"))
    confirmed = models.PositiveIntegerField(_("confirmed"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    unchanged = models.PositiveIntegerField(_("already known"), default=0)
    problems = models.JSONField(_("problems"), default=list, blank=True)

    class Meta:
        verbose_name = _("bank return")
        verbose_name_plural = _("bank returns")
        ordering = ("-imported_at", "-pk")
        constraints = [
            # Importing the same file again changes nothing and says so.
            models.UniqueConstraint(fields=["fund", "sha256"], name="bank_return_once")
        ]

    def __str__(self) -> str:
        return self.file_name


class BankDetailsChange(models.Model):
    """New bank details for an approved application: asked of the applicant (after a transfer
    bounced) or offered by them, and verified by finance before the award is payable again."""

    class Status(models.TextChoices):
        REQUESTED = "requested", pgettext_lazy("bank details", "Asked of the applicant")
        SUBMITTED = "submitted", pgettext_lazy("bank details", "Waiting for verification")
        VERIFIED = "verified", pgettext_lazy("bank details", "Verified")
        REFUSED = "refused", pgettext_lazy("bank details", "Refused")
        WITHDRAWN = "withdrawn", pgettext_lazy("bank details", "Withdrawn (award released)")

    OPEN = (Status.REQUESTED, Status.SUBMITTED)

    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="bank_details_changes",
    )
    fund = models.ForeignKey(
        Fund, verbose_name=_("fund"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    failed_payment = models.ForeignKey(
        Payment,
        verbose_name=_("failed payment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    iban = EncryptedTextField(_("IBAN"), max_length=34, blank=True)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    account_holder = models.CharField(_("account holder"), max_length=140, blank=True)
    holder_matches = models.BooleanField(_("holder's name matches the applicant's"), null=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    # Empty: the applicant gave them in the portal; else the person of finance who entered
    # them for the applicant (a partner's member has no account), who then cannot verify them.
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified or refused by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("verified or refused at"), null=True, blank=True)
    note = EncryptedTextField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("change of bank details")
        verbose_name_plural = _("changes of bank details")
        ordering = ("-requested_at", "-pk")
        constraints = [
            # One change at a time: the award stays unpayable until it is verified.
            models.UniqueConstraint(
                fields=["application"],
                condition=models.Q(status__in=["requested", "submitted"]),
                name="bank_details_one_open_change",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["requested", "withdrawn"]) | ~models.Q(iban=""),
                name="bank_details_change_has_iban",
            ),
            # Four eyes on details entered by finance: someone else verifies them.
            models.CheckConstraint(
                condition=models.Q(submitted_by__isnull=True)
                | models.Q(decided_by__isnull=True)
                | ~models.Q(decided_by=models.F("submitted_by")),
                name="bank_details_entered_verified_by_another",
            ),
        ]
        indexes = [models.Index(fields=["fund", "status", "requested_at"])]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.status}"
