from __future__ import annotations

import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from entraide.core.forms import AccessibleForm, DateInput
from entraide.core.money import CURRENCY_CHOICES


class FundForm(AccessibleForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.SlugField(
        label=_("Short name"),
        max_length=60,
        help_text=_("Used in the fund's web address: lower-case letters, digits and hyphens."),
    )
    description = forms.CharField(
        label=_("Who it is for"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES, initial="EUR")
    budget = forms.DecimalField(label=_("Budget"), min_value=0, max_digits=14, decimal_places=2)
    standard_amount = forms.DecimalField(
        label=_("Standard grant"), min_value=0, max_digits=14, decimal_places=2
    )
    opens_on = forms.DateField(label=_("Applications open on"), widget=DateInput())
    closes_on = forms.DateField(label=_("Applications close on"), widget=DateInput())
    time_zone = forms.ChoiceField(
        label=_("Time zone of the window"),
        choices=[(tz, tz) for tz in sorted(zoneinfo.available_timezones())],
        initial="Europe/Paris",
    )
