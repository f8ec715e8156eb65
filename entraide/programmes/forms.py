"""The programme pages' forms. Field names are those of the services' arguments and of
``ValidationFailed.field``, so that a service's refusal lands on the field it concerns."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from entraide.core.forms import AccessibleForm, DateInput
from entraide.core.money import CURRENCY_CHOICES
from entraide.funds.models import Fund
from entraide.programmes.models import ProgrammeRole

# The choice of the allocation form that keeps the money for crew relief (no fund).
CREW_RELIEF = "crew"
# An ECB file is about a megabyte for every day since 1999 (CSV); its XML, a few more.
MAX_RATES_FILE_BYTES = 20 * 1024 * 1024


class AllocationForm(AccessibleForm):
    """Part of the commitment to one of the programme's funds, or to crew relief."""

    fund = forms.ChoiceField(label=_("To"))
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=14, decimal_places=2, min_value=Decimal("0.01")
    )
    day = forms.DateField(
        label=_("Rate of the day"),
        widget=DateInput(),
        help_text=_(
            "The exchange rates of this day convert the amount into the fund's currency (or "
            "those of the last day before it that has some, within a week)."
        ),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args: Any, funds: list[Fund], currency: str, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"day": timezone.localdate()})
        # The choices first: describing the fields validates a bound form.
        forms.Form.__init__(self, *args, **kwargs)
        self.funds = {str(fund.pk): fund for fund in funds}
        fund_field = self.fields["fund"]
        assert isinstance(fund_field, forms.ChoiceField)
        fund_field.choices = [
            ("", _("Choose…")),
            *[(key, f"{fund.name} ({fund.currency})") for key, fund in self.funds.items()],
            (CREW_RELIEF, pgettext_lazy("allocation", "Crew relief")),
        ]
        self.fields["amount"].help_text = _("In the programme's currency, %(currency)s.") % {
            "currency": currency
        }
        self.describe_fields()

    @property
    def chosen_fund(self) -> Fund | None:
        """The fund chosen, or None for crew relief."""
        return self.funds.get(self.cleaned_data["fund"])


class ProgrammeRoleForm(AccessibleForm):
    """A part in the programme for someone who already has an account."""

    email = forms.EmailField(
        label=_("E-mail address of the person"),
        help_text=_("The address of an existing account."),
    )
    role = forms.ChoiceField(
        label=_("Role"), choices=[("", _("Choose…")), *ProgrammeRole.Role.choices]
    )


class RatesFileForm(AccessibleForm):
    """A file of the ECB's reference rates."""

    file = forms.FileField(
        label=_("File of the ECB's reference rates"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xml,text/csv,text/xml"}),
        help_text=_(
            "CSV or XML, as the European Central Bank publishes them (the day's rates or their "
            "history). A file already imported is not imported twice."
        ),
    )

    def clean_file(self) -> Any:
        uploaded = self.cleaned_data["file"]
        if uploaded.size > MAX_RATES_FILE_BYTES:
            raise forms.ValidationError(
                _("This file is too large: at most %(size)s MB.")
                % {"size": MAX_RATES_FILE_BYTES // (1024 * 1024)}
            )
        return uploaded


class ManualRateForm(AccessibleForm):
    """A rate recorded by hand, which wins over the ECB's for its day."""

    currency = forms.ChoiceField(
        label=_("Currency"),
        choices=[("", _("Choose…")), *[c for c in CURRENCY_CHOICES if c[0] != "EUR"]],
    )
    day = forms.DateField(label=_("Day"), widget=DateInput())
    rate = forms.DecimalField(
        label=_("Units of the currency for one euro"),
        max_digits=18,
        decimal_places=6,
        min_value=Decimal("0.000001"),
        help_text=_("For example 0.87865 for the pound sterling: 1 EUR = 0.87865 GBP."),
    )
    note = forms.CharField(
        label=_("Why, and where the rate comes from"),
        max_length=200,
        help_text=_("Kept with the rate and in the audit log."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"day": timezone.localdate()})
        super().__init__(*args, **kwargs)
