from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# The platform's wording of what a grant is for the tax and benefit offices, until a fund
# words it for its country.
DEFAULT_STATUS_TEXT_FR = (
    "Cette aide exceptionnelle est non imposable et non remboursable. Elle n'est pas un revenu "
    "d'activité."
)
DEFAULT_STATUS_TEXT_EN = (
    "This exceptional grant is not taxable and does not have to be repaid. It is not income "
    "from work."
)


class AttestationSettings(models.Model):
    """How a fund's attestations word the grant's status (its country's tax and benefits
    rules), in French and in English; the platform's wording until the fund changes it."""

    fund = models.OneToOneField(
        "funds.Fund", verbose_name=_("fund"), on_delete=models.CASCADE, related_name="+"
    )
    status_text_fr = models.TextField(
        _("status of the grant (French)"), default=DEFAULT_STATUS_TEXT_FR
    )
    status_text_en = models.TextField(
        _("status of the grant (English)"), default=DEFAULT_STATUS_TEXT_EN
    )
    signatory = models.CharField(
        _("signed by"),
        max_length=200,
        blank=True,
        help_text=_("The person or office named at the foot of the attestation."),
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
        verbose_name = _("attestation settings")
        verbose_name_plural = _("attestation settings")

    def __str__(self) -> str:
        return str(self.fund_id)


class Attestation(models.Model):
    """An attestation issued for an application's grant: the facts it states, as they stood
    when it was first issued, and the code that lets anyone it is shown to check them.

    One row per set of facts: downloading again (in either language) gives the same code; a
    change of the facts (paid after approved, paid again after a returned transfer) issues a
    new one, and the verification page then says the earlier one is superseded."""

    class Stage(models.TextChoices):
        # The award's status ids (entraide.funds.models.Award.Status).
        APPROVED = "reserved", pgettext_lazy("attestation", "Grant approved")
        PAID = "paid", pgettext_lazy("attestation", "Grant paid")

    code = models.CharField(_("verification code"), max_length=19, unique=True)
    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="attestations",
    )
    award = models.ForeignKey(
        "funds.Award", verbose_name=_("award"), on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(_("status"), max_length=20, choices=Stage.choices)
    decided_on = models.DateField(_("decided on"))
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    issued_at = models.DateTimeField(_("issued at"))

    class Meta:
        verbose_name = _("attestation")
        verbose_name_plural = _("attestations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="attestation_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(status="paid") | models.Q(paid_on__isnull=True),
                name="attestation_paid_on_only_when_paid",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class PublicStatistics(models.Model):
    """A fund's choice to publish its statistics on a public page: counts and amounts only,
    each figure hidden when it rests on fewer than ten people."""

    fund = models.OneToOneField(
        "funds.Fund", verbose_name=_("fund"), on_delete=models.CASCADE, related_name="+"
    )
    published = models.BooleanField(_("published"), default=False)
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
        verbose_name = _("public statistics")
        verbose_name_plural = _("public statistics")

    def __str__(self) -> str:
        return f"{self.fund_id}: {self.published}"
