"""The applicant portal: the application in steps (saved as a draft at every step, resumable,
without JavaScript), its submission, the applicant's own pages and the documents they sent."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from entraide.applications import documents as document_store
from entraide.applications import selectors, services
from entraide.applications.forms import (
    BankForm,
    ContactForm,
    DocumentsForm,
    IdentityForm,
    ReplyForm,
    ReviewForm,
    SituationForm,
    field_name,
)
from entraide.applications.identity import identifier_of
from entraide.applications.models import Application, ApplicationDraft
from entraide.applications.origin import origin_of
from entraide.applications.submission import (
    ASKED_IN_OWN_STEPS,
    FIELD_PATHS,
    SubmissionData,
    SubmissionInvalid,
    bic_of,
)
from entraide.core.dates import format_day
from entraide.core.errors import DomainError, ValidationFailed
from entraide.core.forms import AccessibleForm, add_domain_error
from entraide.funds import selectors as fund_selectors
from entraide.funds.models import Fund
from entraide.funds.window import window_state
from entraide.review import selectors as review_selectors
from entraide.rules.declared import AnswersInvalid, clean_answers, country_choices, questions
from entraide.rules.document import RuleDocument

Step = ApplicationDraft.Step
STEPS: list[str] = list(Step.values)
# The steps that hold answers; the last one (review) only sends them.
FORM_STEPS: list[str] = STEPS[:-1]
# Which step asks each field of the submission (the others are the fund's questions,
# ``declared.<id>``, on the situation step, and its documents, ``documents.<code>``).
STEP_OF_FIELD = {
    "nir": Step.IDENTITY,
    "first_name": Step.IDENTITY,
    "last_name": Step.IDENTITY,
    "birth_date": Step.IDENTITY,
    "email": Step.CONTACT,
    "phone": Step.CONTACT,
    "address_line": Step.CONTACT,
    "postcode": Step.CONTACT,
    "city": Step.CONTACT,
    "country": Step.CONTACT,
    "language": Step.CONTACT,
    "profession": Step.SITUATION,
    "iban": Step.BANK,
    "bic": Step.BANK,
    "account_holder": Step.BANK,
    "consent": Step.REVIEW,
}
FIELD_OF_PATH = {path: name for name, path in FIELD_PATHS.items()}

STATUS_EXPLANATIONS = {
    Application.Status.RECEIVED: gettext_lazy(
        "The fund has your application. It will check it against its rules and its records; "
        "you will receive an e-mail when it decides or if it needs something from you."
    ),
    Application.Status.UNDER_REVIEW: gettext_lazy(
        "A member of the fund's team is checking your application. You have nothing to do for "
        "now; you will receive an e-mail when there is news."
    ),
    Application.Status.INFO_REQUESTED: gettext_lazy(
        "The fund needs more information before it can decide. Read its message below and "
        "answer with the form below it, adding the documents it asks for."
    ),
    Application.Status.WAITLISTED: gettext_lazy(
        "Your application meets the fund's conditions, but its budget is committed for now. "
        "Your application stays on the waiting list and will be decided if money becomes "
        "available."
    ),
    Application.Status.APPROVED: gettext_lazy(
        "Your application was approved. The grant will be paid by bank transfer into the account "
        "you gave."
    ),
    Application.Status.PAID: gettext_lazy(
        "The grant was paid into the bank account you gave. It can take a few working days to "
        "appear on your statement."
    ),
    Application.Status.REJECTED: gettext_lazy(
        "Your application was not approved. The reasons are below. If you think there is a "
        "mistake, contact the fund."
    ),
}


@dataclass(frozen=True)
class ProblemLink:
    """A problem of the submission, with the step (and field) where it can be fixed."""

    step: str
    step_label: str
    label: str
    message: str
    url: str


# --------------------------------------------------------------------------------------------
# The list of funds (each fund's own page is in the funds app)
# --------------------------------------------------------------------------------------------


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    funds = fund_selectors.public_funds(timezone.now().date())
    return render(request, "applications/home.html", {"funds": funds})


# --------------------------------------------------------------------------------------------
# Applying, step by step
# --------------------------------------------------------------------------------------------


def _language() -> str:
    return "en" if (get_language() or "fr").startswith("en") else "fr"


def _not_open_to(request: HttpRequest, fund: Fund) -> HttpResponse | None:
    """The page that replaces the form when this person cannot apply (any more) to the fund:
    they already applied, or the window is closed."""
    existing = selectors.applications_of_applicant(request.user).filter(fund=fund).first()
    if existing is not None:
        return render(
            request, "applications/already_applied.html", {"fund": fund, "application": existing}
        )
    window = window_state(fund)
    if not window.is_open:
        return render(request, "applications/apply_closed.html", {"fund": fund, "window": window})
    return None


def _application_with_key(user: Any, raw_key: Any) -> Application | None:
    try:
        key = uuid.UUID(str(raw_key))
    except ValueError:
        return None
    return selectors.applications_of_applicant(user).filter(idempotency_key=str(key)).first()


class Applying:
    """One applicant's draft for one fund, as the step pages read and write it. The draft holds
    what was typed, step by step; the rules and documents asked for are read once per request."""

    def __init__(self, request: HttpRequest, fund: Fund, draft: ApplicationDraft) -> None:
        self.request = request
        self.user: Any = request.user
        self.fund = fund
        self.draft = draft
        self.language = _language()

    @cached_property
    def rules(self) -> RuleDocument | None:
        return services.rules_for_submission(self.fund, self.fund.local_today())

    @cached_property
    def requirements(self) -> list[Any]:
        return list(fund_selectors.document_requirements(self.fund))

    def requirement_label(self, requirement: Any) -> str:
        return str(fund_selectors.text_in(requirement, "label", self.language))

    def documents(self) -> list[Any]:
        return list(self.draft.documents.all())

    def missing_documents(self, documents: list[Any]) -> list[Any]:
        present = {document.requirement for document in documents}
        return [r for r in self.requirements if r.required and r.code not in present]

    def saved(self, step: str) -> dict[str, Any]:
        return dict(self.draft.data.get(step, {}))

    def saved_before(self, step: str) -> bool:
        """Whether the applicant saved this step already (a self-check's answers, put in the
        situation step when the draft is created, are not a save: they hold no profession)."""
        values = self.draft.data.get(step)
        if values is None:
            return False
        return step != Step.SITUATION or "profession" in values

    def left_with_mistakes(self, step: str) -> bool:
        return self.saved_before(step) and step not in self.draft.completed_steps

    def url(self, step: str) -> str:
        return reverse("apply_step", kwargs={"slug": self.fund.slug, "step": step})

    def form(self, step: str, data: Any = None) -> AccessibleForm:
        """The step's form: bound to a POST; or, for a step left with mistakes, to what was
        saved (so the mistakes show again); or filled with the saved values and defaults."""
        saved = self.saved(step)
        if step == Step.SITUATION:
            declared = saved.get("declared", {})
            # A self-check may have asked the profession among its questions.
            initial = {
                **declared,
                "profession": saved.get("profession") or declared.get("profession"),
            }
            if data is None and self.left_with_mistakes(step):
                data = {**declared, "profession": saved.get("profession", "")}
            return SituationForm(data, initial=initial, document=self.rules, language=self.language)
        if data is None and self.left_with_mistakes(step):
            data = saved
        initial = saved
        if step == Step.IDENTITY and not initial.get("birth_date"):
            # So may it have asked the date of birth.
            initial["birth_date"] = self.saved(Step.SITUATION).get("declared", {}).get("birth_date")
        elif step == Step.CONTACT and not initial.get("email"):
            initial["email"] = self.user.email
        elif step == Step.BANK and not initial.get("account_holder"):
            identity = self.saved(Step.IDENTITY)
            initial["account_holder"] = " ".join(
                str(identity[part]) for part in ("first_name", "last_name") if identity.get(part)
            )
        if step == Step.IDENTITY:
            return IdentityForm(data, initial=initial, identifier=identifier_of(self.rules))
        if step == Step.CONTACT:
            if not initial.get("country"):
                # Offered first: the country of the identifier the fund asks for.
                initial["country"] = identifier_of(self.rules).country
            return ContactForm(data, initial=initial, language=self.language)
        return BankForm(data, initial=initial)

    def nav(self, current: str) -> list[dict[str, Any]]:
        return [
            {
                "label": label,
                "number": number,
                "url": self.url(step),
                "current": step == current,
                "complete": step in self.draft.completed_steps,
            }
            for number, (step, label) in enumerate(Step.choices, start=1)
        ]

    def derived_bic(self) -> str:
        """The BIC of the saved IBAN's bank, when the applicant left the BIC empty."""
        bank = self.saved(Step.BANK)
        if bank.get("bic") or not bank.get("iban"):
            return ""
        return bic_of(str(bank["iban"]))

    def render(self, step: str, form: AccessibleForm, **context: Any) -> HttpResponse:
        return render(
            self.request,
            f"applications/steps/{step}.html",
            {
                "fund": self.fund,
                "draft": self.draft,
                "form": form,
                "step": step,
                "step_label": Step(step).label,
                "steps": self.nav(step),
                "step_number": STEPS.index(step) + 1,
                "step_count": len(STEPS),
                **context,
            },
        )

    def after_save(self, step: str) -> HttpResponse:
        if "finish_later" in self.request.POST:
            messages.success(
                self.request,
                _(
                    "Your application to %(fund)s is saved. Come back to it from “My "
                    "applications” when you are ready."
                )
                % {"fund": self.fund.name},
            )
            return redirect("my_applications")
        return redirect(self.url(STEPS[STEPS.index(step) + 1]))


@login_required
@require_safe
def apply(request: HttpRequest, slug: str) -> HttpResponse:
    """Start or resume the application: the applicant lands on the first step left to do."""
    fund = fund_selectors.public_fund(slug)
    refusal = _not_open_to(request, fund)
    if refusal is not None:
        return refusal
    draft = services.resume_draft(
        actor=request.user, fund=fund, prefill=request.session.get(f"self_check:{fund.slug}")
    )
    first = next((step for step in FORM_STEPS if step not in draft.completed_steps), Step.REVIEW)
    return redirect("apply_step", slug=fund.slug, step=first)


@login_required
@require_http_methods(["GET", "POST"])
def apply_step(request: HttpRequest, slug: str, step: str) -> HttpResponse:
    fund = fund_selectors.public_fund(slug)
    if step not in STEPS:
        raise Http404
    draft = selectors.draft_of(request.user, fund)
    if request.method == "POST" and step == Step.REVIEW:
        # A second click, a second tab or the back button resubmitting: the key that the
        # first submission used leads to its application, even once the draft is gone. Read
        # after the draft: the submission that removed it committed its application with it.
        submitted = _application_with_key(request.user, request.POST.get("idempotency_key"))
        if submitted is not None:
            return redirect("application_status", reference=submitted.reference)
    refusal = _not_open_to(request, fund)
    if refusal is not None:
        return refusal
    if draft is None:
        return redirect("apply", slug=fund.slug)
    applying = Applying(request, fund, draft)
    if step == Step.REVIEW:
        return _review_step(applying)
    if step == Step.DOCUMENTS:
        return _documents_step(applying)
    return _form_step(applying, step)


def _typed(form: AccessibleForm) -> dict[str, Any]:
    """What the applicant typed, as typed (kept even when it is wrong, to be corrected), less
    the NUL character that the database cannot store (the form refuses it anyway)."""
    if isinstance(form, SituationForm):
        return {
            "profession": _storable(form.data.get("profession", "")),
            "declared": {
                name: _storable(form.data[name])
                for name in form.question_names
                if form.data.get(name)
            },
        }
    return {name: _storable(form.data.get(name, "")) for name in form.fields}


def _storable(typed: str) -> str:
    return typed.replace("\x00", "")


def _form_step(applying: Applying, step: str) -> HttpResponse:
    request = applying.request
    posted = request.POST if request.method == "POST" else None
    form = applying.form(step, posted)
    if posted is not None:
        valid = form.is_valid()
        services.save_draft_step(
            actor=request.user, draft=applying.draft, step=step, values=_typed(form), complete=valid
        )
        if valid or "finish_later" in request.POST:
            return applying.after_save(step)
    context: dict[str, Any] = {}
    if step == Step.BANK:
        context["derived_bic"] = applying.derived_bic()
    elif step == Step.SITUATION:
        context["prefilled"] = not applying.saved_before(step) and bool(
            applying.saved(step).get("declared")
        )
    return applying.render(step, form, **context)


def _documents_step(applying: Applying) -> HttpResponse:
    request = applying.request
    posted = request.method == "POST"
    form = DocumentsForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        requirements=applying.requirements,
        language=applying.language,
    )
    removed = None
    if posted:
        form.is_valid()
        for requirement in applying.requirements:
            name = field_name(requirement.code)
            upload = form.cleaned_data.get(name)
            if not upload:
                continue
            try:
                services.add_draft_document(
                    actor=request.user,
                    draft=applying.draft,
                    requirement=requirement.code,
                    upload=upload,
                )
            except ValidationFailed as error:
                form.add_error(name, str(error.message))
        removed = _remove_document(applying)
    documents = applying.documents()
    missing = applying.missing_documents(documents)
    if posted:
        services.save_draft_step(
            actor=request.user,
            draft=applying.draft,
            step=Step.DOCUMENTS,
            values={},
            complete=not missing,
        )
        if not form.errors:
            if removed is not None:
                messages.success(request, _("“%(name)s” was removed.") % {"name": removed})
                return redirect(applying.url(Step.DOCUMENTS))
            if not missing or "finish_later" in request.POST:
                return applying.after_save(Step.DOCUMENTS)
    if (posted and removed is None) or applying.left_with_mistakes(Step.DOCUMENTS):
        for requirement in missing:
            name = field_name(requirement.code)
            if name not in form.errors:
                form.add_error(name, _("Please add this document."))
    return applying.render(
        Step.DOCUMENTS,
        form,
        rows=[
            {
                "field": form[field_name(r.code)],
                "documents": [d for d in documents if d.requirement == r.code],
            }
            for r in applying.requirements
        ],
    )


def _remove_document(applying: Applying) -> str | None:
    """Remove the draft's document whose remove button was pressed; its name, if one was."""
    raw = applying.request.POST.get("remove", "")
    if not raw.isdigit():
        return None
    document = applying.draft.documents.filter(pk=int(raw)).first()
    if document is None:
        return None
    name = document.original_name
    services.remove_draft_document(actor=applying.user, document=document)
    return str(name)


# -- check and send ----------------------------------------------------------------------------


def _review_step(applying: Applying) -> HttpResponse:
    request, draft = applying.request, applying.draft
    posted = request.method == "POST"
    form = ReviewForm(
        request.POST if posted else None, initial={"idempotency_key": draft.idempotency_key}
    )
    problems: list[ProblemLink] = []
    if posted and form.is_valid():
        key = str(form.cleaned_data["idempotency_key"] or draft.idempotency_key)
        data = _submission_data(applying, consent=form.cleaned_data["consent"])
        incomplete = [step for step in FORM_STEPS if step not in draft.completed_steps]
        if data is None or incomplete:
            problems = [
                ProblemLink(
                    step,
                    str(Step(step).label),
                    "",
                    _("This step is not complete."),
                    applying.url(step),
                )
                for step in incomplete or [Step.IDENTITY]
            ]
        else:
            try:
                submitted = services.submit_draft(
                    actor=request.user,
                    draft=draft,
                    data=data,
                    idempotency_key=key,
                    required_documents=[
                        (r.code, applying.requirement_label(r))
                        for r in applying.requirements
                        if r.required
                    ],
                    origin=origin_of(request),
                )
            except DomainError as error:
                # The same submission from another tab may have won the race meanwhile (and
                # taken the draft's documents, or the NIR): it is this one's application.
                elsewhere = _application_with_key(request.user, key)
                if elsewhere is not None:
                    return redirect("application_status", reference=elsewhere.reference)
                if not isinstance(error, SubmissionInvalid):
                    add_domain_error(form, error)
                else:
                    problems = _problem_links(applying, error, form)
                    # A step the submission found a problem in is not complete any more: its
                    # page shows the problem again beside what was typed.
                    for step in dict.fromkeys(problem.step for problem in problems):
                        services.save_draft_step(
                            actor=request.user,
                            draft=draft,
                            step=step,
                            values=applying.saved(step),
                            complete=False,
                        )
            else:
                return redirect("application_status", reference=submitted.application.reference)
    return applying.render(
        Step.REVIEW, form, problems=problems, sections=_review_sections(applying)
    )


def _date(typed: Any) -> dt.date | None:
    """A date as the date field sends it (YYYY-MM-DD), or None."""
    try:
        return dt.date.fromisoformat(str(typed))
    except ValueError:
        return None


def _submission_data(applying: Applying, *, consent: bool) -> SubmissionData | None:
    """The submission from what the draft holds, as typed: ``check_submission`` normalises and
    checks it. None when the birth date cannot even be read (the identity step is not done)."""
    identity = applying.saved(Step.IDENTITY)
    contact = applying.saved(Step.CONTACT)
    situation = applying.saved(Step.SITUATION)
    bank = applying.saved(Step.BANK)
    birth_date = _date(identity.get("birth_date"))
    if birth_date is None:
        return None
    iban = str(bank.get("iban", ""))
    return SubmissionData(
        nir=str(identity.get("nir", "")),
        first_name=str(identity.get("first_name", "")),
        last_name=str(identity.get("last_name", "")),
        birth_date=birth_date,
        email=str(contact.get("email", "")),
        phone=str(contact.get("phone", "")),
        address_line=str(contact.get("address_line", "")),
        postcode=str(contact.get("postcode", "")),
        city=str(contact.get("city", "")),
        country=str(contact.get("country", "")),
        profession=str(situation.get("profession", "")),
        declared={
            key: value
            for key, value in situation.get("declared", {}).items()
            if key not in ASKED_IN_OWN_STEPS
        },
        iban=iban,
        # Left empty, check_submission gives the IBAN's registered BIC, as the page said.
        bic=str(bank.get("bic", "")),
        account_holder=str(bank.get("account_holder", "")),
        consent=consent,
        language=applying.language,
    )


def _labels(applying: Applying) -> dict[str, dict[str, str]]:
    """The label of every field, by step, as each step's form shows it."""
    labels: dict[str, dict[str, str]] = {
        step: {name: str(field.label) for name, field in applying.form(step).fields.items()}
        for step in (Step.IDENTITY, Step.CONTACT, Step.SITUATION, Step.BANK)
    }
    labels[Step.DOCUMENTS] = {
        field_name(r.code): applying.requirement_label(r) for r in applying.requirements
    }
    return labels


def _problem_links(
    applying: Applying, invalid: SubmissionInvalid, form: ReviewForm
) -> list[ProblemLink]:
    """Each problem of the submission with a link to the field of the step that asks it; the
    consent, asked on this page, is shown on its field."""
    labels = _labels(applying)
    links = []
    for problem in invalid.problems:
        head, _dot, tail = problem.path.partition(".")
        if head == "declared":
            step, name = Step.SITUATION, tail
        elif head == "documents":
            step, name = Step.DOCUMENTS, field_name(tail)
        else:
            name = FIELD_OF_PATH.get(problem.path, "")
            step = STEP_OF_FIELD.get(name, Step.REVIEW)
        if step == Step.REVIEW:
            form.add_error("consent" if name == "consent" else None, problem.message)
            continue
        label = labels[step].get(name, "")
        url = applying.url(step)
        links.append(
            ProblemLink(
                step,
                str(Step(step).label),
                label,
                problem.message,
                # Radio buttons are found by their first button.
                f"{url}#id_{name}{'_0' if name == 'profession' else ''}" if label else url,
            )
        )
    return links


def _review_sections(applying: Applying) -> list[dict[str, Any]]:
    """Each step's answers as the applicant will send them, with the link to change them."""
    labels = _labels(applying)
    professions = dict(Application.Profession.choices)

    def rows(step: str, names: list[str]) -> list[tuple[str, str]]:
        values = applying.saved(step)
        return [(labels[step][name], str(values.get(name) or "—")) for name in names]

    identity_rows = rows(Step.IDENTITY, ["nir", "first_name", "last_name", "birth_date"])
    birth_date = _date(applying.saved(Step.IDENTITY).get("birth_date"))
    if birth_date is not None:
        identity_rows[3] = (identity_rows[3][0], format_day(birth_date))

    situation = applying.saved(Step.SITUATION)
    bank_rows = rows(Step.BANK, ["iban", "bic", "account_holder"])
    derived = applying.derived_bic()
    if derived:
        bank_rows[1] = (bank_rows[1][0], _("%(bic)s (found from the IBAN)") % {"bic": derived})
    requirement_labels = {r.code: applying.requirement_label(r) for r in applying.requirements}
    contact_rows = rows(Step.CONTACT, ["email", "phone", "address_line", "postcode", "city"])
    country = applying.saved(Step.CONTACT).get("country")
    if country:
        countries = dict(country_choices(applying.language))
        contact_rows.append((labels[Step.CONTACT]["country"], countries.get(country, country)))
    sections = [
        (Step.IDENTITY, identity_rows),
        (Step.CONTACT, contact_rows),
        (
            Step.SITUATION,
            [
                (
                    labels[Step.SITUATION]["profession"],
                    str(professions.get(situation.get("profession", ""), "—")),
                ),
                *_answer_rows(applying, situation.get("declared", {})),
            ],
        ),
        (Step.BANK, bank_rows),
        (
            Step.DOCUMENTS,
            [
                (requirement_labels.get(d.requirement, _("Document")), d.original_name)
                for d in applying.documents()
            ],
        ),
    ]
    return [
        {
            "label": Step(step).label,
            "rows": section_rows,
            "complete": step in applying.draft.completed_steps,
            "url": applying.url(step),
        }
        for step, section_rows in sections
    ]


def _answer_rows(applying: Applying, raw: dict[str, Any]) -> list[tuple[str, str]]:
    """The fund's questions with the answers given so far, in the page's words."""
    if applying.rules is None:
        return []
    try:
        answers = clean_answers(applying.rules, raw, skip=ASKED_IN_OWN_STEPS, partial=True)
    except AnswersInvalid:
        answers = {}
    return [
        (
            question.label.get(applying.language),
            selectors.answer_text(question, answers[question.id])
            if question.id in answers
            else str(raw.get(question.id) or "—"),
        )
        for question in questions(applying.rules, skip=ASKED_IN_OWN_STEPS)
    ]


# --------------------------------------------------------------------------------------------
# The applicant's own pages
# --------------------------------------------------------------------------------------------


@login_required
@require_safe
def my_applications(request: HttpRequest) -> HttpResponse:
    applications = selectors.applications_of_applicant(request.user)
    drafts = [
        {
            "draft": draft,
            "done": sum(step in draft.completed_steps for step in FORM_STEPS),
            "total": len(FORM_STEPS),
        }
        for draft in selectors.drafts_of_applicant(request.user).order_by("-updated_at")
    ]
    return render(
        request,
        "applications/my_applications.html",
        {"applications": applications, "drafts": drafts},
    )


@login_required
@require_http_methods(["GET", "POST"])
def application_status(request: HttpRequest, reference: str) -> HttpResponse:
    """The receipt and the status of an application, its thread with the fund, and the answer
    to the fund's request for information."""
    application = selectors.application_of_applicant(request.user, reference)
    fund = application.fund
    thread = selectors.messages_of(application)
    waiting = application.status == Application.Status.INFO_REQUESTED
    requirements = {r.code: r for r in fund_selectors.document_requirements(fund)}
    language = _language()
    requested = [
        (
            code,
            fund_selectors.text_in(requirements[code], "label", language),
            fund_selectors.text_in(requirements[code], "help", language),
        )
        for code in _requested_documents(thread)
        if code in requirements
    ]
    form = ReplyForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        requested=requested,
    )
    if request.method == "POST":
        if not waiting:
            # Answered already (a second click): the thread shows the answer.
            return redirect("application_status", reference=application.reference)
        if form.is_valid():
            try:
                services.reply_to_staff(
                    actor=request.user,
                    application=application,
                    body=form.cleaned_data["body"],
                    uploads=form.uploads(),
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("Your answer was sent to the fund."))
                return redirect("application_status", reference=application.reference)
    documents = list(application.documents.all())
    return render(
        request,
        "applications/status.html",
        {
            "application": application,
            "fund": fund,
            "decision": review_selectors.decision_for(application.pk),
            "explanation": STATUS_EXPLANATIONS[Application.Status(application.status)],
            "answers": selectors.declared_answers(application, language),
            "documents": [
                (_label_of(requirements, d.requirement, language), d)
                for d in documents
                if d.message_id is None
            ],
            "thread": [
                (
                    message,
                    [
                        _label_of(requirements, code, language)
                        for code in message.requested_documents
                    ],
                )
                for message in thread
            ],
            "reply_form": form if waiting else None,
        },
    )


def _requested_documents(thread: list[Any]) -> list[str]:
    """The documents the fund's latest request for information asks for."""
    for message in reversed(thread):
        if message.from_staff and message.requests_information:
            return list(message.requested_documents)
    return []


def _label_of(requirements: dict[str, Any], code: str, language: str) -> str:
    requirement = requirements.get(code)
    if requirement is None:
        return code or _("Document")
    return str(fund_selectors.text_in(requirement, "label", language))


# A document may run nothing in our origin: a PDF is always a download (its reader, the
# browser's included, is not ours to trust with our pages), and an image shown in the page was
# decoded and encoded again on upload; either is sent with a policy that loads and runs nothing.
IMAGE_POLICY = "default-src 'none'; img-src 'self'; sandbox; frame-ancestors 'none'"
DOWNLOAD_POLICY = "default-src 'none'; sandbox; frame-ancestors 'none'"


@login_required
@require_safe
def document_download(request: HttpRequest, document_id: int) -> FileResponse:
    """A document for its owner or the fund's staff, decrypted, with the type its content was
    recognised as: a download, or with ``?inline=1`` an image shown in the page (see
    :func:`documents.previewable`)."""
    document = selectors.document_for(request.user, document_id)
    inline = request.GET.get("inline") == "1"
    if inline and not document_store.previewable(document):
        raise Http404
    try:
        content = document_store.read(document.stored_name)
    except FileNotFoundError:
        raise Http404 from None
    extension = document_store.ACCEPTED_TYPES.get(document.content_type, "bin")
    response = FileResponse(
        io.BytesIO(content),
        as_attachment=not inline,
        filename=document_store.display_name(document.original_name, extension),
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = IMAGE_POLICY if inline else DOWNLOAD_POLICY
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
