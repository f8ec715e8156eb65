"""The export button's form: which file. The list's filters travel beside it, in the list's own
field names, and are read by the list's own form (``review.list_forms.ApplicationFilterForm``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from entraide.reporting.exports import FileFormat


class ExportForm(forms.Form):
    # Not required: the fund's dashboard asks for the whole list without a choice, in CSV.
    file_format = forms.ChoiceField(
        label=_("File format"),
        choices=FileFormat.choices,
        required=False,
        initial=FileFormat.CSV,
        widget=forms.RadioSelect,
    )

    def chosen_format(self) -> str:
        """The format chosen (call after ``is_valid()``)."""
        return self.cleaned_data.get("file_format") or FileFormat.CSV
