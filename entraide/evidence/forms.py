"""The back office's form to send an evidence file to import."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from entraide.core.forms import AccessibleForm
from entraide.evidence.models import EvidenceBatch


class EvidenceImportForm(AccessibleForm):
    """Fields named as ``start_import``'s arguments, so that its refusals land on them."""

    kind = forms.ChoiceField(
        label=_("Kind of records"),
        choices=[("", _("Choose…")), *EvidenceBatch.Kind.choices],
    )
    uploaded_file = forms.FileField(
        label=_("File"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.parquet,text/csv"}),
        help_text=_(
            "CSV (UTF-8, a header row, “,” between values) or Parquet, with the columns of its "
            "kind. It is checked line by line: the good lines are imported, the others listed "
            "in an error report."
        ),
    )
    source = forms.CharField(
        label=_("Where the file comes from (optional)"),
        max_length=200,
        required=False,
        help_text=_("For example “Audiens, declarations of March 2020”; by default, its name."),
    )
