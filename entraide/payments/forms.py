"""The payments back office's forms. Field names are those of the services' arguments and of
``ValidationFailed.field``, so that a service's refusal lands on the field it concerns."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from entraide.core.forms import AccessibleForm, DateInput
from entraide.payments.files import CSV_FIELDS
from entraide.payments.models import PaymentSettings
from entraide.payments.services import OnFailure, Selection

MAX_BANK_RETURN_BYTES = 50 * 1024 * 1024


def _model_field(name: str, **kwargs: Any) -> forms.Field:
    """The form field of PaymentSettings' ``name``: its label, help text, length and choices."""
    field = PaymentSettings._meta.get_field(name).formfield(**kwargs)  # type: ignore[union-attr]
    assert field is not None
    return field


def columns_as_lines(columns: list[list[str]]) -> str:
    return "\n".join(f"{header} = {field}" for header, field in columns)


class PaymentSettingsForm(AccessibleForm):
    """How the fund pays; the CSV columns are edited as lines ``header = field``."""

    CSV_DELIMITERS = [
        (",", pgettext_lazy("CSV separator", "Comma (,)")),
        (";", pgettext_lazy("CSV separator", "Semicolon (;)")),
        ("\t", pgettext_lazy("CSV separator", "Tab")),
        ("|", pgettext_lazy("CSV separator", "Vertical bar (|)")),
    ]

    file_format = _model_field("file_format")
    debtor_name = _model_field("debtor_name")
    debtor_iban = _model_field("debtor_iban", max_length=42)  # typed with spaces
    debtor_bic = _model_field("debtor_bic")
    initiating_party = _model_field("initiating_party")
    initiating_party_id = _model_field("initiating_party_id")
    execution_days = _model_field("execution_days", max_value=30)
    remittance_template = _model_field("remittance_template")
    csv_columns = forms.CharField(
        label=_("CSV columns"),
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
    )
    csv_delimiter = forms.ChoiceField(label=_("CSV separator"), choices=CSV_DELIMITERS)
    csv_decimal_comma = _model_field("csv_decimal_comma")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        forms.Form.__init__(self, *args, **kwargs)
        self.fields["csv_columns"].help_text = _(
            "For a CSV file: one column per line, its header, “=”, then the field it holds, "
            "among: %(fields)s."
        ) % {"fields": "; ".join(f"{name} ({label})" for name, label in CSV_FIELDS.items())}
        self.describe_fields()

    def clean_csv_columns(self) -> list[list[str]]:
        columns = []
        lines = self.cleaned_data["csv_columns"].splitlines()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            header, equals, field = line.rpartition("=")
            if not equals:
                raise forms.ValidationError(
                    _("Line %(number)s has no “=” between the header and the field."),
                    code="no_equals",
                    params={"number": number},
                )
            columns.append([header.strip(), field.strip()])
        return columns


class SelectionForm(AccessibleForm):
    """Which payable awards a batch takes (every criterion optional)."""

    approved_until = forms.DateField(
        label=_("Approved on or before"),
        required=False,
        widget=DateInput(),
        help_text=_("On the fund's clock. Empty: whenever they were approved."),
    )
    up_to_amount = forms.DecimalField(
        label=_("Up to a total of"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=16,
        decimal_places=2,
        help_text=_(
            "Awards are taken in the order they were approved until the next one would go "
            "beyond this total."
        ),
    )
    limit = forms.IntegerField(
        label=_("At most this many awards"), required=False, min_value=1, max_value=1_000_000
    )

    def selection(self) -> Selection:
        return Selection(
            approved_until=self.cleaned_data["approved_until"],
            up_to_amount=self.cleaned_data["up_to_amount"],
            limit=self.cleaned_data["limit"],
        )


class ReleaseForm(AccessibleForm):
    execution_date = forms.DateField(
        label=_("Requested execution date"),
        required=False,
        widget=DateInput(),
        help_text=_("Empty: the first day the fund's settings allow."),
    )


class NoteForm(AccessibleForm):
    """Why a batch is cancelled, or why a failed award is released."""

    note = forms.CharField(label=_("Why"), max_length=300)


class CancelForm(NoteForm):
    """Why a batch is cancelled; once its file was downloaded, the person also says that the
    bank did not receive it (else its awards could be paid twice)."""

    bank_did_not_receive = forms.BooleanField(
        label=_(
            "The bank did not receive this file (never uploaded, or refused by the bank whole)"
        ),
        required=False,
    )


class BankReturnForm(AccessibleForm):
    file = forms.FileField(
        label=_("The bank's file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,application/xml,text/xml"}),
        help_text=_(
            "A payment status report (pain.002) or a debit/credit notification (camt.054), "
            "50 MB at most. The same file imported twice changes nothing."
        ),
    )
    on_failure = forms.ChoiceField(
        label=_("When a transfer failed"),
        choices=[
            (
                OnFailure.KEEP,
                _(
                    "Keep the award to pay it again (new bank details are asked of the "
                    "applicant when the bank's reason calls for them)"
                ),
            ),
            (OnFailure.RELEASE, _("Release the award: its money goes back to the budget")),
        ],
        initial=OnFailure.KEEP,
        widget=forms.RadioSelect,
        help_text=_("You can still release a kept award later, one by one."),
    )

    def clean_file(self) -> Any:
        uploaded = self.cleaned_data["file"]
        if uploaded.size > MAX_BANK_RETURN_BYTES:
            raise forms.ValidationError(
                _("The file is larger than 50 MB: ask the bank for smaller reports."),
                code="too_large",
            )
        return uploaded
