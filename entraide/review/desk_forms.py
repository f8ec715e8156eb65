"""The forms of the review desk on the application page: assign, flag, resolve a flag."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from entraide.accounts.models import User
from entraide.core.forms import AccessibleForm


class AssignForm(AccessibleForm):
    reviewer = forms.ModelChoiceField(
        label=_("Reviewer"), queryset=User.objects.none(), empty_label=_("Choose a reviewer")
    )

    def __init__(self, *args: Any, reviewers: QuerySet[User], **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_assign_%s")
        # Described once the choices are set: describing a bound form validates it.
        forms.Form.__init__(self, *args, **kwargs)
        field = self.fields["reviewer"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = reviewers
        self.describe_fields()


class FlagForm(AccessibleForm):
    note = forms.CharField(
        label=_("What needs attention"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_flag_%s")
        super().__init__(*args, **kwargs)


class ResolveFlagForm(AccessibleForm):
    """One per open flag on the page: ``flag_id`` keeps the fields' ids apart."""

    resolution = forms.CharField(
        label=_("How it was resolved"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, flag_id: int, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"id_flag{flag_id}_%s")
        super().__init__(*args, **kwargs)
