"""The dashboards' form: the period a fund's figures cover."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from entraide.core.forms import AccessibleForm, DateInput
from entraide.reporting.statistics import EVERYTHING, Period


class PeriodForm(AccessibleForm):
    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(
        label=_("To"),
        required=False,
        widget=DateInput(),
        help_text=_("Days on the fund's clock, both included."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", _("The last day comes before the first."))
        return cleaned

    def period(self) -> Period:
        """The period asked for; every day when the form is empty or wrong."""
        if not self.is_valid():
            return EVERYTHING
        return Period(self.cleaned_data["start"], self.cleaned_data["end"])
