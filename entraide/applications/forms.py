"""Forms of the applicant portal (one per step of an application, the reply to the fund) and the
staff's message to an applicant.

Each check is the one :func:`entraide.applications.submission.check_submission` makes (the same
functions), so that a step refuses exactly what the submission would refuse, on the right field.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from entraide.applications.identity import PersonalIdentifier
from entraide.applications.models import Application
from entraide.applications.submission import (
    ASKED_IN_OWN_STEPS,
    normalise_bic,
    normalise_iban,
)
from entraide.core.errors import ValidationFailed
from entraide.core.forms import AccessibleForm, DateInput
from entraide.funds.selectors import text_in
from entraide.rules.declared import answer_fields, clean_form_answers, country_choices
from entraide.rules.document import RuleDocument

# What the browser offers to pick; the content is checked on the server whatever the name says.
ACCEPTED_FILES = "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"


def _checked(check: Callable[..., Any], *args: Any) -> Any:
    """A domain check as a form error: same function, same message."""
    try:
        return check(*args)
    except ValidationFailed as error:
        raise forms.ValidationError(str(error.message)) from error


def files_help(extra: str = "") -> str:
    limit = filesizeformat(settings.DOCUMENT_MAX_BYTES)
    accepted = _("PDF, JPEG or PNG, up to %(limit)s.") % {"limit": limit}
    return f"{extra} {accepted}".strip()


def document_field(label: str, help_text: str, *, required: bool) -> forms.FileField:
    # Never required by the form itself: a file added earlier satisfies the requirement.
    field = forms.FileField(
        label=label if required else _("%(label)s (optional)") % {"label": label},
        help_text=files_help(help_text),
        required=False,
        widget=forms.FileInput(attrs={"accept": ACCEPTED_FILES}),
    )
    return field


# Identifiers (NIR, IBAN, BIC) are typed in capitals, never corrected nor remembered.
IDENTIFIER_ATTRS = {"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}


class IdentityForm(AccessibleForm):
    """Who applies: the personal identifier is the one the fund's rules ask for
    (``identifier``), labelled, explained and checked as that identifier."""

    first_name = forms.CharField(
        label=_("First name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    birth_date = forms.DateField(
        label=_("Date of birth"), widget=DateInput(attrs={"autocomplete": "bday"})
    )

    def __init__(self, *args: Any, identifier: PersonalIdentifier, **kwargs: Any) -> None:
        forms.Form.__init__(self, *args, **kwargs)
        self.identifier = identifier
        # First, as on the identity card the applicant copies it from.
        self.fields = {
            "nir": forms.CharField(
                label=identifier.label,
                max_length=identifier.max_length,
                help_text=identifier.help_text,
                widget=forms.TextInput(attrs=IDENTIFIER_ATTRS),
                # Too long is one way of not being this identifier (a NIR in a NINO's field).
                error_messages={"max_length": identifier.invalid},
            ),
            **self.fields,
        }
        self.describe_fields()

    def clean_nir(self) -> str:
        return str(_checked(self.identifier.normalise, self.cleaned_data["nir"]))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        nir, birth_date = cleaned.get("nir"), cleaned.get("birth_date")
        if nir and birth_date:
            try:
                self.identifier.check_birth_date(nir, birth_date)
            except ValidationFailed as error:
                self.add_error("birth_date", str(error.message))
        return cleaned


class ContactForm(AccessibleForm):
    email = forms.EmailField(
        label=_("E-mail address"),
        help_text=_("The fund writes to you at this address."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Telephone (optional)"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    address_line = forms.CharField(
        label=_("Address"),
        max_length=200,
        help_text=_("Number and street, and the building or flat if needed."),
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    postcode = forms.CharField(
        label=_("Postcode"),
        max_length=16,
        # Not a numeric keypad: a UK postcode has letters ("W12 7RJ").
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    city = forms.CharField(
        label=_("Town or city"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    # Left out (a draft saved before it was asked): the country of the fund's identifier, as
    # check_submission gives it.
    country = forms.ChoiceField(
        label=capfirst(_("country")),
        required=False,
        widget=forms.Select(attrs={"autocomplete": "country"}),
    )

    def __init__(self, *args: Any, language: str, **kwargs: Any) -> None:
        # The choices before describe_fields, which reads the errors (as IdentityForm does).
        forms.Form.__init__(self, *args, **kwargs)
        country = self.fields["country"]
        assert isinstance(country, forms.ChoiceField)
        country.choices = country_choices(language)
        self.describe_fields()


class SituationForm(AccessibleForm):
    """The profession, then the fund's own questions (those of the rules in force)."""

    profession = forms.ChoiceField(
        label=_("Your profession"),
        choices=Application.Profession.choices,
        widget=forms.RadioSelect,
    )

    def __init__(
        self, *args: Any, document: RuleDocument | None, language: str, **kwargs: Any
    ) -> None:
        # Fields come from the rules, so they are described once they are all there (as
        # every form here whose fields are built: AccessibleForm validates when it describes).
        forms.Form.__init__(self, *args, **kwargs)
        self.document = document
        self.answers: dict[str, Any] = {}
        if document is not None:
            self.fields.update(answer_fields(document, language, skip=ASKED_IN_OWN_STEPS))
        self.describe_fields()

    @property
    def question_names(self) -> list[str]:
        return [name for name in self.fields if name != "profession"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.document is not None:
            self.answers = clean_form_answers(self, self.document, skip=ASKED_IN_OWN_STEPS) or {}
        return cleaned


class BankForm(AccessibleForm):
    iban = forms.CharField(
        label=_("IBAN"),
        max_length=50,
        help_text=_(
            "On your bank details (RIB). A French IBAN has 27 characters and starts with FR. "
            "Spaces are allowed."
        ),
        widget=forms.TextInput(attrs=IDENTIFIER_ATTRS),
    )
    bic = forms.CharField(
        label=_("BIC (optional)"),
        max_length=20,
        required=False,
        help_text=_("8 or 11 letters and digits. Leave empty if you do not know it."),
        widget=forms.TextInput(attrs=IDENTIFIER_ATTRS),
    )
    account_holder = forms.CharField(
        label=_("Account holder"),
        max_length=140,
        help_text=_("The name on the account, as your bank writes it."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def clean_iban(self) -> str:
        return str(_checked(normalise_iban, self.cleaned_data["iban"]))

    def clean_bic(self) -> str:
        return str(_checked(normalise_bic, self.cleaned_data["bic"]))


class DocumentsForm(AccessibleForm):
    """One file field per document the fund asks for, named ``document_<code>``."""

    def __init__(self, *args: Any, requirements: Sequence[Any], language: str, **kwargs: Any):
        forms.Form.__init__(self, *args, **kwargs)
        for requirement in requirements:
            self.fields[field_name(requirement.code)] = document_field(
                text_in(requirement, "label", language),
                text_in(requirement, "help", language),
                required=requirement.required,
            )
        self.describe_fields()


def field_name(code: str) -> str:
    return f"document_{code}"


class ReviewForm(AccessibleForm):
    # Consent is checked by check_submission, with the other problems of the submission.
    consent = forms.BooleanField(
        label=_("I confirm that what I declare is accurate and I accept that the fund checks it."),
        required=False,
    )
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, required=False)


class ReplyForm(AccessibleForm):
    """The applicant's answer to the fund, with the documents it asked for."""

    body = forms.CharField(
        label=_("Your answer"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(
        self, *args: Any, requested: Sequence[tuple[str, str, str]] = (), **kwargs: Any
    ) -> None:
        """``requested``: ``(code, label, help)`` of the documents the fund asked for."""
        forms.Form.__init__(self, *args, **kwargs)
        asked = _("Asked for by the fund. If you cannot send it, say why in your answer.")
        for code, label, help_text in requested:
            self.fields[field_name(code)] = document_field(
                label, f"{help_text} {asked}".strip(), required=True
            )
        self.fields["document_other"] = document_field(
            str(_("Another document")), "", required=False
        )
        self.describe_fields()

    def uploads(self) -> list[tuple[str, Any]]:
        """``(requirement code, file)`` of the files sent; an extra file has no code."""
        return [
            (name.removeprefix("document_") if name != "document_other" else "", upload)
            for name in self.fields
            if name.startswith("document_") and (upload := self.cleaned_data.get(name))
        ]


class StaffMessageForm(AccessibleForm):
    body = forms.CharField(
        label=_("Message"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "The applicant is told by e-mail that there is a message and reads it in the portal."
        ),
    )
    request_information = forms.BooleanField(
        label=_("Ask for information (the application waits for the applicant's answer)"),
        required=False,
    )
    requested_documents = forms.MultipleChoiceField(
        label=_("Documents to ask for"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, documents: Sequence[tuple[str, str]] = (), **kwargs: Any):
        """``documents``: ``(code, label)`` of the documents the fund may ask for."""
        forms.Form.__init__(self, *args, **kwargs)
        requested = self.fields["requested_documents"]
        if documents:
            assert isinstance(requested, forms.MultipleChoiceField)
            requested.choices = list(documents)
        else:
            del self.fields["requested_documents"]
        self.describe_fields()
