from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from entraide.core.crypto import BlindIndexField, EncryptedJSONField, EncryptedTextField

# The submission key of a crew relief grant starts with this (entraide.crew), then its payout.
ROSTER_GRANT_KEY = "crew:"


class Application(models.Model):
    """One request of one applicant to one fund: what they declared and where it stands."""

    class Status(models.TextChoices):
        RECEIVED = "received", pgettext_lazy("application status", "Received")
        UNDER_REVIEW = "under_review", pgettext_lazy("application status", "Under review")
        INFO_REQUESTED = (
            "info_requested",
            pgettext_lazy("application status", "Information requested"),
        )
        WAITLISTED = "waitlisted", pgettext_lazy("application status", "Waitlisted")
        APPROVED = "approved", pgettext_lazy("application status", "Approved")
        REJECTED = "rejected", pgettext_lazy("application status", "Rejected")
        PAID = "paid", pgettext_lazy("application status", "Paid")

    class Profession(models.TextChoices):
        TECHNICIAN = "technician", pgettext_lazy("profession", "Technician")
        ARTIST = "artist", pgettext_lazy("profession", "Artist")

    reference = models.CharField(_("reference"), max_length=20, unique=True)
    fund = models.ForeignKey(
        "funds.Fund", verbose_name=_("fund"), on_delete=models.PROTECT, related_name="applications"
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant's account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
        help_text=_("Empty when a partner submitted the application for its member."),
    )
    partner = models.ForeignKey(
        "intake.Partner",
        verbose_name=_("submitted by partner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED
    )
    # The personal identifier the fund's rules ask for (applications.identity), compact: the
    # NIR in France, a codice fiscale (16 characters), a DNI or NIE, a National Insurance number.
    # Encrypted at rest; looked up, compared and kept unique by its blind index only.
    nir = EncryptedTextField(_("social security number"), max_length=20)
    nir_index = BlindIndexField(source="nir", kind="nir")
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    birth_date = models.DateField(_("date of birth"))
    email = models.EmailField(_("e-mail address"))
    phone = models.CharField(_("telephone"), max_length=32, blank=True)
    address_line = models.CharField(_("address"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=16, blank=True)
    city = models.CharField(_("town or city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="FR")
    profession = models.CharField(_("profession"), max_length=20, choices=Profession.choices)
    declared = models.JSONField(_("declared facts"), default=dict, blank=True)
    iban = EncryptedTextField(_("IBAN"), max_length=34)
    iban_index = BlindIndexField(source="iban", kind="iban")
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    account_holder = models.CharField(_("account holder"), max_length=140)
    language = models.CharField(_("language"), max_length=8, default="fr")
    idempotency_key = models.CharField(_("submission key"), max_length=128)
    request_digest = models.CharField(
        _("request fingerprint"),
        max_length=64,
        blank=True,
        help_text=_(
            "SHA-256 of a partner's request body: a retry with the same key must send the "
            "same body."
        ),
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    origin = models.CharField(
        _("submitted from"),
        max_length=64,
        blank=True,
        help_text=_(
            "A keyed digest of the address the portal's submission came from (never the "
            "address itself): several applications from one place in a short time are a "
            "signal. Empty for partners' submissions."
        ),
    )
    status_changed_at = models.DateTimeField(_("status changed at"))
    # The review clock stops while the fund waits for the applicant (information requested):
    # the time already waited, and since when it is stopped.
    clock_paused_seconds = models.PositiveBigIntegerField(_("time paused (seconds)"), default=0)
    clock_paused_since = models.DateTimeField(_("clock paused since"), null=True, blank=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        constraints = [
            # One application per person per fund, checked on the NIR (its blind index).
            models.UniqueConstraint(
                fields=["fund", "nir_index"], name="application_one_per_person"
            ),
            # A submission retried (double click, reload, two tabs, network) returns the first.
            models.UniqueConstraint(
                fields=["applicant", "idempotency_key"],
                condition=models.Q(applicant__isnull=False),
                name="application_idempotent_submit",
            ),
            models.UniqueConstraint(
                fields=["partner", "idempotency_key"],
                condition=models.Q(partner__isnull=False),
                name="application_idempotent_partner_submit",
            ),
            # Every application is someone's: an applicant's account or a partner's, or a
            # crew relief run's grant (entraide.crew: the crew member made no application).
            models.CheckConstraint(
                condition=models.Q(applicant__isnull=False)
                | models.Q(partner__isnull=False)
                | models.Q(idempotency_key__startswith=ROSTER_GRANT_KEY),
                name="application_has_submitter",
            ),
        ]
        # The back office's lists read each of their orders from an index, the id last (a page
        # starts after its previous page's last (key, id): entraide.core.keyset). Searching
        # has PostgreSQL indexes of its own (migration 0004, entraide.applications.search).
        indexes = [
            models.Index(
                fields=["fund", "status", "submitted_at", "id"], name="application_status_order"
            ),
            models.Index(fields=["fund", "submitted_at", "id"], name="application_submitted_order"),
            models.Index(
                fields=["fund", "last_name", "first_name", "id"], name="application_name_order"
            ),
            models.Index(fields=["fund", "reference"], name="application_reference_order"),
            models.Index(fields=["partner", "fund", "status_changed_at"]),
            models.Index(fields=["nir_index"], name="application_nir"),
            # The integrity checks look a new application's identifiers up among the others.
            models.Index(fields=["iban_index"], name="application_iban"),
            models.Index(fields=["email"], name="application_email"),
            models.Index(fields=["phone"], name="application_phone"),
            models.Index(fields=["birth_date"], name="application_birth_date"),
            models.Index(fields=["origin", "submitted_at"], name="application_origin"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def from_roster(self) -> bool:
        """A crew relief grant: no one applied, a relief run computed it from a roster; the
        crew member has no account, and is written to by the crew relief run itself."""
        return self.idempotency_key.startswith(ROSTER_GRANT_KEY)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def review_time(self, now: dt.datetime) -> dt.timedelta:
        """How long the fund has had the application to decide, the clock stopped while it
        waited for the applicant (information requested)."""
        paused = self.clock_paused_seconds
        if self.clock_paused_since is not None:
            paused += int((now - self.clock_paused_since).total_seconds())
        return max(now - self.submitted_at - dt.timedelta(seconds=paused), dt.timedelta(0))


# Every allowed change of status, in one place.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    Application.Status.RECEIVED: frozenset(
        {
            Application.Status.UNDER_REVIEW,
            Application.Status.APPROVED,
            Application.Status.REJECTED,
            Application.Status.INFO_REQUESTED,
            Application.Status.WAITLISTED,
        }
    ),
    Application.Status.UNDER_REVIEW: frozenset(
        {
            Application.Status.APPROVED,
            Application.Status.REJECTED,
            Application.Status.INFO_REQUESTED,
            Application.Status.WAITLISTED,
        }
    ),
    Application.Status.INFO_REQUESTED: frozenset({Application.Status.UNDER_REVIEW}),
    Application.Status.WAITLISTED: frozenset(
        {Application.Status.APPROVED, Application.Status.REJECTED}
    ),
    Application.Status.APPROVED: frozenset({Application.Status.PAID}),
    Application.Status.REJECTED: frozenset(),
    # A transfer the bank returned: approved again, to be paid again.
    Application.Status.PAID: frozenset({Application.Status.APPROVED}),
}
# Where a reviewer's decision can still be made (a paid application returned by the bank is
# approved again by the payments, not decided again).
DECIDABLE_STATUSES = frozenset(
    {Application.Status.RECEIVED, Application.Status.UNDER_REVIEW, Application.Status.WAITLISTED}
)


class ApplicationDraft(models.Model):
    """An application being filled in, saved at every step so that it can be resumed."""

    class Step(models.TextChoices):
        IDENTITY = "identity", pgettext_lazy("application step", "Identity")
        CONTACT = "contact", pgettext_lazy("application step", "Contact")
        SITUATION = "situation", pgettext_lazy("application step", "Your situation")
        BANK = "bank", pgettext_lazy("application step", "Bank details")
        DOCUMENTS = "documents", pgettext_lazy("application step", "Documents")
        REVIEW = "review", pgettext_lazy("application step", "Check and send")

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant"),
        on_delete=models.CASCADE,
        related_name="application_drafts",
    )
    fund = models.ForeignKey(
        "funds.Fund", verbose_name=_("fund"), on_delete=models.CASCADE, related_name="drafts"
    )
    data = EncryptedJSONField(_("answers so far"), default=dict, blank=True)
    completed_steps = models.JSONField(_("completed steps"), default=list, blank=True)
    # Generated with the draft: the submission of this draft, from any tab, is one application.
    idempotency_key = models.UUIDField(_("submission key"), default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("application draft")
        verbose_name_plural = _("application drafts")
        constraints = [
            models.UniqueConstraint(fields=["applicant", "fund"], name="draft_one_per_fund")
        ]

    def __str__(self) -> str:
        return f"{self.applicant} — {self.fund}"


class ApplicationMessage(models.Model):
    """A message between the fund's staff and the applicant, in the application's thread."""

    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="messages",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    from_staff = models.BooleanField(_("from the fund's staff"))
    body = EncryptedTextField(_("message"))
    requests_information = models.BooleanField(_("asks for information"), default=False)
    requested_documents = models.JSONField(_("documents asked for"), default=list, blank=True)
    created_at = models.DateTimeField(_("sent at"))

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ("created_at", "pk")
        indexes = [models.Index(fields=["application", "created_at"])]

    def __str__(self) -> str:
        return f"{self.application} — {self.created_at:%Y-%m-%d %H:%M}"


class ApplicationDocument(models.Model):
    """A file sent with an application (or a draft, or a reply), stored outside the web root
    under a random name and served only to its owner and the fund's staff."""

    class Scan(models.TextChoices):
        PENDING = "pending", pgettext_lazy("virus scan", "Waiting for the virus scan")
        CLEAN = "clean", pgettext_lazy("virus scan", "No virus found")
        INFECTED = "infected", pgettext_lazy("virus scan", "Infected: blocked")
        NOT_SCANNED = "not_scanned", pgettext_lazy("virus scan", "Not scanned")

    fund = models.ForeignKey(
        "funds.Fund", verbose_name=_("fund"), on_delete=models.PROTECT, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        on_delete=models.PROTECT,
        related_name="application_documents",
    )
    draft = models.ForeignKey(
        ApplicationDraft,
        verbose_name=_("draft"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="documents",
    )
    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
    )
    message = models.ForeignKey(
        ApplicationMessage,
        verbose_name=_("message"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
    )
    requirement = models.CharField(_("document asked for"), max_length=60, blank=True)
    original_name = models.CharField(_("file name"), max_length=200)
    stored_name = models.CharField(_("stored as"), max_length=80, unique=True, editable=False)
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    scan = models.CharField(_("virus scan"), max_length=12, choices=Scan.choices)
    uploaded_at = models.DateTimeField(_("sent at"))

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ("uploaded_at", "pk")

    def __str__(self) -> str:
        return self.original_name
