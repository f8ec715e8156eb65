"""The forms of a fund's list of applications: its filters, and what to do with a selection."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from entraide.applications.models import Application
from entraide.applications.selectors import (
    CONTRADICTED_BY_RECORDS,
    OUTCOME_CHANGED,
    UNASSIGNED,
    ListFilters,
    Queue,
    Sort,
)

# The parameters of the list's address that are not filters: its page.
PAGE_PARAMETERS = ("page", "after", "before")


class ApplicationFilterForm(forms.Form):
    """The list's filters, from its address. A value that is not one of the choices is left
    out (the list shows everything for that filter), not an error."""

    queue = forms.ChoiceField(required=False, choices=Queue.choices, widget=forms.HiddenInput)
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("A name (at least 3 letters), a reference or the start of an e-mail."),
    )
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
    assignee = forms.ChoiceField(label=_("Assigned to"), required=False)
    profession = forms.ChoiceField(
        label=_("Profession"),
        required=False,
        choices=[("", _("All professions")), *Application.Profession.choices],
    )
    partner = forms.TypedChoiceField(
        label=_("Submitted by"), required=False, coerce=int, empty_value=None
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[("", pgettext_lazy("sort", "The queue's order")), *Sort.choices],
    )

    def __init__(
        self,
        data: Any = None,
        *,
        reviewers: Iterable[Any],
        partners: Sequence[tuple[int, str]],
    ) -> None:
        super().__init__(data)
        assignee = self.fields["assignee"]
        assert isinstance(assignee, forms.ChoiceField)
        assignee.choices = [
            ("", _("Anyone or nobody")),
            (UNASSIGNED, _("Nobody (not assigned)")),
            *((str(person.pk), str(person)) for person in reviewers),
        ]
        if partners:
            partner = self.fields["partner"]
            assert isinstance(partner, forms.ChoiceField)
            partner.choices = [("", _("Anyone (portal or partner)")), *partners]
        else:
            del self.fields["partner"]

    def filters(self) -> ListFilters:
        """The valid filters (call after ``is_valid()``)."""
        data = getattr(self, "cleaned_data", {})
        return ListFilters(
            queue=data.get("queue") or Queue.ALL,
            status=data.get("status", ""),
            records=data.get("records", ""),
            assignee=data.get("assignee", ""),
            profession=data.get("profession", ""),
            partner=data.get("partner"),
            search=data.get("q", ""),
            sort=data.get("sort", ""),
        )


class IdsField(forms.Field):
    """Ids of rows, as many inputs of one name (the ticked boxes)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": _("These applications are not in the list.")}

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        try:
            return [int(item) for item in value]
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class BulkAssignForm(forms.Form):
    """The applications ticked on a page of the list and what to do with them. Any id may be
    sent: the services keep those of the fund still waiting for a decision."""

    ASSIGN, ROUND_ROBIN, UNASSIGN = "assign", "round_robin", "unassign"

    action = forms.ChoiceField(
        choices=[
            (ASSIGN, _("Assign to")),
            (ROUND_ROBIN, _("Share among the reviewers")),
            (UNASSIGN, _("Unassign")),
        ]
    )
    applications = IdsField(
        label=_("Applications"), error_messages={"required": _("Tick at least one application.")}
    )
    reviewer: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Reviewer"), queryset=None, required=False
    )
    # The list's address after ``?``, to go back to the same page.
    query = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data: Any, *, reviewers: Any) -> None:
        super().__init__(data)
        reviewer = self.fields["reviewer"]
        assert isinstance(reviewer, forms.ModelChoiceField)
        reviewer.queryset = reviewers

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == self.ASSIGN and data.get("reviewer") is None:
            self.add_error("reviewer", _("Choose the reviewer to assign them to."))
        return data
