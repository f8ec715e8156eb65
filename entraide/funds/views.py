"""The public side of a fund (its page, the eligibility self-check) and the back office's funds:
the staff's list, creating a fund, editing its public page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from entraide.core.errors import DomainError, PermissionDenied
from entraide.core.forms import add_domain_error
from entraide.funds import public, selectors, services
from entraide.funds.forms import (
    DocumentRequirementFormSet,
    FundForm,
    FundQuestionFormSet,
    PublicPageForm,
    SelfCheckForm,
    document_inputs,
    faq_entries,
)
from entraide.funds.permissions import Capability, can_create_funds, is_back_office_user
from entraide.funds.window import evaluation_day, window_state
from entraide.programmes import selectors as programme_selectors
from entraide.programmes.permissions import is_operator, programmes_for
from entraide.rules.declared import evaluate_answers, questions
from entraide.rules.engine import deciding_criteria


def _language() -> str:
    return (get_language() or "fr")[:2]


def self_check_key(slug: str) -> str:
    """Where the self-check keeps the answers in the session, for the application form."""
    return f"self_check:{slug}"


@require_safe
def public_page(request: HttpRequest, slug: str) -> HttpResponse:
    fund = selectors.public_fund(slug)
    return render(
        request,
        "funds/public_page.html",
        {"fund": fund, "page": public.public_page(fund, _language())},
    )


@require_http_methods(["GET", "HEAD", "POST"])
def self_check(request: HttpRequest, slug: str) -> HttpResponse:
    """The rules' questions, answered without an account and evaluated as of today; the valid
    answers stay in the session so that the application form starts from them."""
    fund = selectors.public_fund(slug)
    window = window_state(fund)
    document = public.rules_for(fund)
    context = {"fund": fund, "window": window, "form": None, "result": None}
    if document is None:
        return render(request, "funds/self_check.html", context)
    language = _language()
    # Answers come in a POST (kept out of addresses and logs), or a GET that carries them.
    asked = {question.id for question in questions(document)}
    data: QueryDict | None = request.POST if request.method == "POST" else request.GET
    if request.method != "POST" and not asked & set(request.GET):
        data = None
    form = SelfCheckForm(
        data,
        document=document,
        language=language,
        initial=request.session.get(self_check_key(fund.slug)),
    )
    context["form"] = form
    if data is not None and form.is_valid() and form.answers is not None:
        if request.method == "POST":
            # Only answers the person sent: a link with answers in it (from another site, or
            # a bot) evaluates them but neither creates a session nor pre-fills an application.
            request.session[self_check_key(fund.slug)] = form.answers
        evaluation = evaluate_answers(
            document, form.answers, at=evaluation_day(fund), language=language
        )
        context["result"] = {
            "evaluation": evaluation,
            "reasons": deciding_criteria(document, evaluation),
        }
    return render(request, "funds/self_check.html", context)


# -- back office -------------------------------------------------------------------------------


@login_required
@require_safe
def staff_home(request: HttpRequest) -> HttpResponse:
    if not is_back_office_user(request.user):
        raise PermissionDenied()
    return render(
        request,
        "funds/staff_home.html",
        {
            "funds": selectors.funds_for_staff(request.user),
            "can_create": can_create_funds(request.user),
            "can_view_evidence": request.user.has_perm("evidence.view_evidencebatch"),
            "programmes": programme_selectors.programmes_with_allocated(request.user),
            "can_see_rates": is_operator(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def fund_create(request: HttpRequest) -> HttpResponse:
    if not can_create_funds(request.user):
        raise PermissionDenied()
    form = FundForm(
        request.POST or None, programmes=programmes_for(request.user).order_by("name", "pk")
    )
    if request.method == "POST" and form.is_valid():
        try:
            fund = services.create_fund(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return redirect("fund_dashboard", slug=fund.slug)
    return render(request, "funds/fund_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def public_page_edit(request: HttpRequest, slug: str) -> HttpResponse:
    fund = selectors.fund_for_staff(request.user, slug, Capability.MANAGE_FUND)
    data = request.POST if request.method == "POST" else None
    form = PublicPageForm(
        data, initial={name: getattr(fund, name) for name in services.PUBLIC_PAGE_FIELDS}
    )
    documents = DocumentRequirementFormSet(
        data,
        prefix="documents",
        initial=[
            {name: getattr(row, name) for name in services.DOCUMENT_FIELDS}
            for row in selectors.document_requirements(fund)
        ],
    )
    faq = FundQuestionFormSet(
        data,
        prefix="faq",
        initial=[
            {name: getattr(row, name) for name in services.FAQ_FIELDS}
            for row in selectors.frequently_asked(fund)
        ],
    )
    # every part is checked, so that each shows its errors at once
    if data is not None and all([form.is_valid(), documents.is_valid(), faq.is_valid()]):
        try:
            services.update_public_page(
                actor=request.user,
                fund=fund,
                **form.cleaned_data,
                documents=document_inputs(documents),
                faq=faq_entries(faq),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("The public page was saved."))
            return redirect("fund_public_page_edit", slug=fund.slug)
    return render(
        request,
        "funds/public_page_edit.html",
        {"fund": fund, "form": form, "documents": documents, "faq": faq},
    )
