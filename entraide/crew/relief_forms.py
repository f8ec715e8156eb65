"""The forms of the crew relief pages. Field names are those of the services' arguments and of
``ValidationFailed.field``, so that a service's refusal lands on the field it concerns."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from entraide.core.forms import AccessibleForm
from entraide.crew.models import Payout, Production


class CrewSettingsForm(AccessibleForm):
    """How the programme pays crews."""

    weeks = forms.IntegerField(label=_("Weeks of pay"), min_value=1, max_value=52)
    days_per_week = forms.IntegerField(
        label=_("Days in a week of pay"),
        min_value=1,
        max_value=7,
        help_text=_("A crew member paid by the day is paid this many days a week."),
    )
    cap = forms.DecimalField(
        label=_("Most paid to one person"),
        required=False,
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
    )
    several_productions = forms.BooleanField(
        label=_("Pay a person for each production they were on"),
        required=False,
        help_text=_(
            "Within the cap in all. Otherwise a person on the rosters of several productions "
            "is paid once, for the first production proposed."
        ),
    )

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cap"].help_text = _(
            "In the programme's currency, %(currency)s, converted into each production's at "
            "the rate of the day the run is computed. Empty: no cap."
        ) % {"currency": currency}
        self.describe_fields()


class ProposeRunForm(AccessibleForm):
    """The productions whose crew a new run pays."""

    productions = forms.TypedMultipleChoiceField(
        label=_("Productions"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one production.")},
    )

    def __init__(self, *args: Any, productions: Sequence[Production], **kwargs: Any) -> None:
        # The choices first: describing the fields validates a bound form.
        forms.Form.__init__(self, *args, **kwargs)
        self.by_pk = {production.pk: production for production in productions}
        field = self.fields["productions"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [
            (production.pk, f"{production.code} — {production.title}") for production in productions
        ]
        self.describe_fields()

    @property
    def chosen(self) -> list[Production]:
        return [self.by_pk[pk] for pk in self.cleaned_data["productions"]]


class PayoutFilterForm(forms.Form):
    """Which of a run's payouts the page lists."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *Payout.Status.choices]
    )
    production = forms.TypedChoiceField(
        label=_("Production"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, productions: Sequence[Production], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["production"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("All")), *[(p.pk, p.code) for p in productions]]


class ExcludeForm(AccessibleForm):
    """Why a payout is left out of its run."""

    note = forms.CharField(label=_("Why it is left out"), max_length=300)


class RejectForm(AccessibleForm):
    """Why the run is rejected."""

    note = forms.CharField(
        label=_("Why the run is rejected"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Its proposed payouts are withdrawn; their people can be proposed again."),
    )
