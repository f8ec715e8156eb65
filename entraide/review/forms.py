from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from entraide.applications.models import Application
from entraide.applications.selectors import CONTRADICTED_BY_RECORDS, OUTCOME_CHANGED
from entraide.core.forms import AccessibleForm
from entraide.core.money import format_money
from entraide.review.models import Decision


class DecisionForm(AccessibleForm):
    """``default_amount``: what an approval without an amount grants, said in the help text."""

    outcome = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (Decision.Outcome.APPROVED, pgettext_lazy("decide", "Approve")),
            (Decision.Outcome.REJECTED, pgettext_lazy("decide", "Reject")),
        ],
        widget=forms.RadioSelect,
    )
    amount = forms.DecimalField(
        label=_("Amount"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        help_text=_("Leave empty to grant the fund's standard amount."),
    )
    reason = forms.CharField(
        label=_("Reason given to the applicant"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required for a rejection."),
    )

    def __init__(
        self,
        *args: Any,
        default_amount: Decimal | None = None,
        from_evaluation: bool = False,
        currency: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if from_evaluation and default_amount is not None:
            self.fields["amount"].help_text = _(
                "Leave empty to grant the amount of the evaluation (%(amount)s)."
            ) % {"amount": format_money(default_amount, currency)}


class ApplicationFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *Application.Status.choices],
    )
    records = forms.ChoiceField(
        label=_("Records"),
        required=False,
        choices=[
            ("", _("All applications")),
            (CONTRADICTED_BY_RECORDS, _("Answers contradicted by the records")),
            (OUTCOME_CHANGED, _("Outcome changed at the last verification")),
        ],
    )
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("Reference, name or e-mail."),
    )
