"""The attestation pages' forms: the fund's wording (its field names are the service's) and the
public verification's code."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from entraide.core.forms import AccessibleForm
from entraide.reporting.models import AttestationSettings

# Long enough for a paragraph of the tax and benefits rules, short enough to fit on the page.
WORDING_MAX_LENGTH = 1500


def _model_field(name: str, **overrides: Any) -> forms.Field:
    """The form field of AttestationSettings' ``name``: its label and help text."""
    field = AttestationSettings._meta.get_field(name).formfield(**overrides)  # type: ignore[union-attr]
    assert field is not None
    return field


class AttestationSettingsForm(AccessibleForm):
    status_text_fr = _model_field(
        "status_text_fr",
        max_length=WORDING_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "lang": "fr"}),
        help_text=_(
            "What the grant is for the tax and benefits offices (not taxable, not to be "
            "repaid…), as the French attestation says it."
        ),
    )
    status_text_en = _model_field(
        "status_text_en",
        max_length=WORDING_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "lang": "en"}),
        help_text=_("The same, as the English attestation says it."),
    )
    signatory = _model_field("signatory")


class VerificationForm(AccessibleForm):
    """The code printed on an attestation. Never refused as malformed: a code that cannot be
    one gets the same answer as a code that does not exist."""

    code = forms.CharField(
        label=_("Verification code"),
        required=False,
        strip=True,
        help_text=_("The code printed at the foot of the attestation, e.g. 7K3M-9Q2F-X4TB-H8WD."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
    )
