from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from typing import Any

from django import forms
from django.forms.formsets import DELETION_FIELD_NAME, ORDERING_FIELD_NAME
from django.utils.translation import gettext_lazy as _

from entraide.core.forms import AccessibleForm, DateInput
from entraide.core.money import CURRENCY_CHOICES
from entraide.funds.models import Fund
from entraide.funds.services import DocumentRequirementInput, FaqEntry
from entraide.programmes.models import Programme
from entraide.rules.declared import answer_fields, clean_form_answers
from entraide.rules.document import RuleDocument


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", **kwargs)


def _opening_time() -> forms.TimeField:
    return forms.TimeField(
        label=_("Applications open at"),
        widget=TimeInput(),
        initial=dt.time(0, 0),
        help_text=_("On the opening day, in the time zone of the window."),
    )


def _closing_time() -> forms.TimeField:
    return forms.TimeField(
        label=_("Applications close at"),
        widget=TimeInput(),
        initial=dt.time(23, 59),
        help_text=_("On the closing day, in the time zone of the window; this minute is included."),
    )


class FundForm(AccessibleForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.SlugField(
        label=_("Short name"),
        max_length=60,
        help_text=_("Used in the fund's web address: lower-case letters, digits and hyphens."),
    )
    description = forms.CharField(
        label=_("Who it is for"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES, initial="EUR")
    budget = forms.DecimalField(label=_("Budget"), min_value=0, max_digits=14, decimal_places=2)
    standard_amount = forms.DecimalField(
        label=_("Standard grant"), min_value=0, max_digits=14, decimal_places=2
    )
    opens_on = forms.DateField(label=_("Applications open on"), widget=DateInput())
    opening_time = _opening_time()
    closes_on = forms.DateField(label=_("Applications close on"), widget=DateInput())
    closing_time = _closing_time()
    time_zone = forms.ChoiceField(
        label=_("Time zone of the window"),
        choices=[(tz, tz) for tz in sorted(zoneinfo.available_timezones())],
        initial="Europe/Paris",
    )
    kind = forms.ChoiceField(
        label=_("Kind of fund"),
        choices=Fund.Kind.choices,
        initial=Fund.Kind.APPLICATIONS,
        required=False,
        help_text=_(
            "A crew relief fund takes no application: it pays the crews of its programme's "
            "suspended productions from their rosters, in its currency, within its budget."
        ),
    )
    programme_id = forms.TypedChoiceField(
        label=_("Programme"),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("The donor's programme the fund is part of, if any: a crew relief fund is."),
    )

    def __init__(self, *args: Any, programmes: Iterable[Programme] = (), **kwargs: Any) -> None:
        # The choices first: describing the fields validates a bound form.
        forms.Form.__init__(self, *args, **kwargs)
        programme_field = self.fields["programme_id"]
        assert isinstance(programme_field, forms.TypedChoiceField)
        programme_field.choices = [
            ("", _("None")),
            *[(programme.pk, programme.name) for programme in programmes],
        ]
        self.describe_fields()

    def clean_kind(self) -> str:
        return self.cleaned_data["kind"] or Fund.Kind.APPLICATIONS


# -- the eligibility self-check -----------------------------------------------------------------


class SelfCheckForm(AccessibleForm):
    """The questions of the rules in force, checked by the rules' own answer check."""

    def __init__(
        self, data: Any = None, *, document: RuleDocument, language: str, initial: Any = None
    ) -> None:
        # Fields come from the rules, so they are described once they are all there.
        forms.Form.__init__(self, data, initial=initial)
        self.document = document
        self.answers: dict[str, Any] | None = None
        self.fields.update(answer_fields(document, language))
        self.describe_fields()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.answers = clean_form_answers(self, self.document)
        return cleaned


# -- the public page, for its operator ----------------------------------------------------------


def _text_area(
    label: Any, rows: int = 6, *, required: bool = False, **options: Any
) -> forms.CharField:
    return forms.CharField(
        label=label, widget=forms.Textarea(attrs={"rows": rows}), required=required, **options
    )


class PublicPageForm(AccessibleForm):
    summary_fr = _text_area(
        _("Who it is for, in French"),
        help_text=_(
            "The first thing applicants read. Left blank, the page shows the description of "
            "the fund's rules. Leave a blank line between paragraphs."
        ),
    )
    summary_en = _text_area(_("Who it is for, in English"))
    operator_name = forms.CharField(
        label=_("Operator"),
        max_length=200,
        required=False,
        help_text=_("The organisation that runs the fund, as the privacy notice names it."),
    )
    contact_email = forms.EmailField(
        label=_("Contact e-mail address"),
        required=False,
        help_text=_("Where applicants write with questions about the fund and their data."),
    )
    opening_time = _opening_time()
    closing_time = _closing_time()
    privacy_notice_fr = _text_area(
        _("Privacy notice, in French"),
        rows=10,
        help_text=_(
            "Left blank, the page shows a generic notice naming the fund, the operator and the "
            "contact address."
        ),
    )
    privacy_notice_en = _text_area(_("Privacy notice, in English"), rows=10)


class _RowForm(AccessibleForm):
    """A row of a formset: described once the formset has added its order and delete fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        forms.Form.__init__(self, *args, **kwargs)


class DocumentRequirementForm(_RowForm):
    code = forms.SlugField(
        label=_("Code"),
        max_length=60,
        help_text=_("Lower-case letters, digits and hyphens; keep it when the wording changes."),
    )
    label_fr = forms.CharField(label=_("Document, in French"), max_length=200)
    label_en = forms.CharField(label=_("Document, in English"), max_length=200)
    help_fr = _text_area(_("Explanation, in French"), rows=2)
    help_en = _text_area(_("Explanation, in English"), rows=2)
    required = forms.BooleanField(label=_("Required to apply"), required=False, initial=True)


class FundQuestionForm(_RowForm):
    question_fr = forms.CharField(label=_("Question, in French"), max_length=300)
    question_en = forms.CharField(label=_("Question, in English"), max_length=300)
    answer_fr = _text_area(_("Answer, in French"), rows=3, required=True)
    answer_en = _text_area(_("Answer, in English"), rows=3, required=True)


class _RowFormSet(forms.BaseFormSet):
    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        form.fields[ORDERING_FIELD_NAME].label = _("Position")
        if DELETION_FIELD_NAME in form.fields:
            form.fields[DELETION_FIELD_NAME].label = _("Remove")
        if isinstance(form, _RowForm):
            form.describe_fields()

    def kept(self) -> list[dict[str, Any]]:
        """The rows to keep, in the order asked (rows without a position last, as shown)."""
        return [
            {
                name: value
                for name, value in form.cleaned_data.items()
                if name not in (ORDERING_FIELD_NAME, DELETION_FIELD_NAME)
            }
            for form in self.ordered_forms
        ]


DocumentRequirementFormSet = forms.formset_factory(
    DocumentRequirementForm,
    formset=_RowFormSet,
    extra=2,
    can_order=True,
    can_delete=True,
    can_delete_extra=False,
)
FundQuestionFormSet = forms.formset_factory(
    FundQuestionForm,
    formset=_RowFormSet,
    extra=2,
    can_order=True,
    can_delete=True,
    can_delete_extra=False,
)


def document_inputs(formset: Any) -> list[DocumentRequirementInput]:
    return [DocumentRequirementInput(**row) for row in formset.kept()]


def faq_entries(formset: Any) -> list[FaqEntry]:
    return [FaqEntry(**row) for row in formset.kept()]
