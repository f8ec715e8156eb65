"""Forms of the privacy pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from entraide.core.forms import AccessibleForm, DateInput
from entraide.privacy.models import ErasureRequest, FundRetentionPolicy


class RetentionPolicyForm(AccessibleForm):
    months_after_payment = forms.IntegerField(
        label=FundRetentionPolicy._meta.get_field("months_after_payment").verbose_name,
        help_text=FundRetentionPolicy._meta.get_field("months_after_payment").help_text,
        min_value=1,
        max_value=120,
    )
    months_after_refusal = forms.IntegerField(
        label=FundRetentionPolicy._meta.get_field("months_after_refusal").verbose_name,
        help_text=FundRetentionPolicy._meta.get_field("months_after_refusal").help_text,
        min_value=1,
        max_value=120,
    )
    months_after_closing = forms.IntegerField(
        label=FundRetentionPolicy._meta.get_field("months_after_closing").verbose_name,
        help_text=FundRetentionPolicy._meta.get_field("months_after_closing").help_text,
        min_value=0,
        max_value=60,
    )


class ErasureRequestForm(AccessibleForm):
    reference = forms.CharField(
        label=_("Reference of the person's application"),
        max_length=20,
        help_text=_("Every application of the same person in this fund is erased with it."),
    )
    requested_on = forms.DateField(label=_("Received on"), widget=DateInput())
    channel = forms.ChoiceField(
        label=_("Received by"),
        choices=[
            choice
            for choice in ErasureRequest.Channel.choices
            if choice[0] != ErasureRequest.Channel.PORTAL
        ],
    )

    def clean_requested_on(self) -> Any:
        requested_on = self.cleaned_data["requested_on"]
        if requested_on > timezone.localdate():
            raise forms.ValidationError(_("This date is in the future."))
        return requested_on


class ConfirmErasureForm(AccessibleForm):
    confirm = forms.BooleanField(
        label=_("I understand that my data will be erased and cannot be recovered."),
        required=True,
    )
