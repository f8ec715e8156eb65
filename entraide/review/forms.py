from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from entraide.core.forms import AccessibleForm
from entraide.core.money import format_money
from entraide.funds.models import Fund


class DecisionForm(AccessibleForm):
    """Approve, put on the waiting list, or reject with the criteria not met.

    ``default_amount``: what an approval without an amount grants; ``amount_range``: the range
    the rules allow (need-based funds); ``criteria``: (id, label, passed) of the evaluation,
    offered as grounds of a rejection (those not met ticked)."""

    APPROVE, WAITLIST, REJECT = "approve", "waitlist", "reject"

    outcome = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (APPROVE, pgettext_lazy("decide", "Approve")),
            (WAITLIST, pgettext_lazy("decide", "Put on the waiting list")),
            (REJECT, pgettext_lazy("decide", "Reject")),
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
    reasons = forms.MultipleChoiceField(
        label=_("Criteria not met"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("For a rejection: the applicant receives their explanation."),
    )
    reason = forms.CharField(
        label=_("Reason given to the applicant"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("A rejection needs criteria or a reason."),
    )
    note = forms.CharField(
        label=_("Note for the second approver"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "An approval against the rules, with another amount or above the fund's threshold "
            "waits for a second approver: say why."
        ),
    )

    def __init__(
        self,
        *args: Any,
        default_amount: Decimal | None = None,
        from_evaluation: bool = False,
        amount_range: tuple[Decimal, Decimal] | None = None,
        criteria: Sequence[tuple[str, str, bool]] = (),
        currency: str = "",
        **kwargs: Any,
    ) -> None:
        # The choices first: describing the fields validates a bound form.
        forms.Form.__init__(self, *args, **kwargs)
        if amount_range is not None:
            self.fields["amount"].help_text = _(
                "The rules allow %(low)s to %(high)s; empty grants %(amount)s."
            ) % {
                "low": format_money(amount_range[0], currency),
                "high": format_money(amount_range[1], currency),
                "amount": format_money(default_amount, currency),
            }
        elif from_evaluation and default_amount is not None:
            self.fields["amount"].help_text = _(
                "Leave empty to grant the amount of the evaluation (%(amount)s)."
            ) % {"amount": format_money(default_amount, currency)}
        reasons = self.fields["reasons"]
        assert isinstance(reasons, forms.MultipleChoiceField)
        reasons.choices = [(criterion, label) for criterion, label, _passed in criteria]
        reasons.initial = [criterion for criterion, _label, passed in criteria if not passed]
        if not criteria:
            del self.fields["reasons"]
        self.describe_fields()


class SecondApprovalAnswerForm(AccessibleForm):
    answer = forms.CharField(
        label=_("Answer"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required to refuse: the person who proposed it reads it."),
    )


class BudgetRulesForm(AccessibleForm):
    award_order = forms.ChoiceField(
        label=_("Awards are funded"),
        choices=Fund.AwardOrder.choices,
        help_text=_("When the budget runs out, approved applications wait in this order."),
    )
    second_approval_above = forms.DecimalField(
        label=_("Second approval above"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=14,
        decimal_places=2,
        help_text=_(
            "An approval of more than this amount needs a second approver. Empty: only "
            "approvals against the rules or with another amount need one."
        ),
    )


class TopUpForm(AccessibleForm):
    amount = forms.DecimalField(
        label=_("Amount credited"), min_value=Decimal("0.01"), max_digits=14, decimal_places=2
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=300,
        help_text=_("Where the money comes from (e.g. the ministry's second instalment)."),
    )
