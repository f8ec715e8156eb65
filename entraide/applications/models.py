from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


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
        verbose_name=_("applicant"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED
    )
    nir = models.CharField(_("social security number"), max_length=15)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    birth_date = models.DateField(_("date of birth"))
    email = models.EmailField(_("e-mail address"))
    profession = models.CharField(_("profession"), max_length=20, choices=Profession.choices)
    annual_resources = models.DecimalField(
        _("annual resources before allowances"), max_digits=14, decimal_places=2
    )
    declared = models.JSONField(_("declared facts"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=8, default="fr")
    idempotency_key = models.UUIDField(_("submission key"))
    submitted_at = models.DateTimeField(_("submitted at"))

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        constraints = [
            # One application per person per fund, checked on the NIR.
            models.UniqueConstraint(fields=["fund", "nir"], name="application_one_per_person"),
            # A submission retried (double click, reload, network) returns the first one.
            models.UniqueConstraint(
                fields=["applicant", "idempotency_key"], name="application_idempotent_submit"
            ),
            models.CheckConstraint(
                condition=models.Q(annual_resources__gte=0),
                name="application_resources_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["fund", "status", "submitted_at"]),
            models.Index(fields=["fund", "submitted_at"]),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


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
    Application.Status.PAID: frozenset(),
}
DECIDABLE_STATUSES = frozenset(
    status
    for status, targets in ALLOWED_TRANSITIONS.items()
    if Application.Status.APPROVED in targets or Application.Status.REJECTED in targets
)
