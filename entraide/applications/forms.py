from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from entraide.applications.models import Application
from entraide.core.forms import AccessibleForm, DateInput


class ApplicationForm(AccessibleForm):
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    nir = forms.CharField(
        label=_("Social security number"),
        max_length=21,
        help_text=_("15 characters including the 2-digit key, as on your Carte Vitale."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    first_name = forms.CharField(
        label=_("First name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    birth_date = forms.DateField(
        label=_("Date of birth"), widget=DateInput(attrs={"autocomplete": "bday"})
    )
    profession = forms.ChoiceField(label=_("Profession"), choices=Application.Profession.choices)
    annual_resources = forms.DecimalField(
        label=_("Annual resources before any allowance (€)"),
        min_value=0,
        max_digits=14,
        decimal_places=2,
        help_text=_("Your income over the last 12 months, before unemployment benefits."),
    )
    consent = forms.BooleanField(
        label=_("I confirm that what I declare is accurate and I accept that the fund checks it."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4())
