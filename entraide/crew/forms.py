"""The crew relief pages' forms: the roster upload (the relief runs' are in relief_forms.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from entraide.core.forms import AccessibleForm
from entraide.crew.roster import MAX_ROSTER_BYTES


class RosterFileForm(AccessibleForm):
    """A production roster, as docs/crew.md describes it."""

    file = forms.FileField(
        label=_("Roster file (CSV)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        help_text=_(
            "One line per crew member of a suspended production, with a header; separated by "
            "commas or semicolons, in UTF-8 or Windows-1252. A file is imported once."
        ),
    )

    def clean_file(self) -> Any:
        uploaded = self.cleaned_data["file"]
        if uploaded.size > MAX_ROSTER_BYTES:
            raise forms.ValidationError(
                _("This file is too large: at most %(size)s MB.")
                % {"size": MAX_ROSTER_BYTES // (1024 * 1024)}
            )
        return uploaded
