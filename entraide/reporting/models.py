from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

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
