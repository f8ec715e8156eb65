"""The rule editor of a fund, for its operator admins: versions, the draft in forms and in
YAML, the preview on the pending applications, publishing, and re-evaluating."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_tasks.base import TaskResult

from entraide.core.errors import DomainError, InvalidTransition
from entraide.core.progress import progress_of
from entraide.core.tasks_lookup import fund_task_result
from entraide.funds import selectors as fund_selectors
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability
from entraide.rules import selectors, services
from entraide.rules.forms import ReevaluationForm, RuleEditorForm, SourceForm, problem_text
from entraide.rules.models import RuleSetVersion
from entraide.rules.tasks import reevaluate_pending_applications


def _fund(request: HttpRequest, slug: str) -> Fund:
    """The fund, for those who manage it (404 for its other staff, 403 for non-staff)."""
    return fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_FUND)


@login_required
@require_safe
def rule_versions(request: HttpRequest, slug: str) -> HttpResponse:
    fund = _fund(request, slug)
    versions = list(selectors.versions_of(fund))
    in_force = selectors.current_version(fund)
    return render(
        request,
        "rules/versions.html",
        {
            "fund": fund,
            "versions": versions,
            "in_force": in_force,
            "draft": next((v for v in versions if v.is_draft), None),
        },
    )


@login_required
@require_POST
def rule_draft_new(request: HttpRequest, slug: str) -> HttpResponse:
    fund = _fund(request, slug)
    draft = services.start_draft(actor=request.user, fund=fund)
    return redirect("rule_draft_edit", slug=fund.slug, number=draft.number)


@login_required
@require_safe
def rule_version(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    fund = _fund(request, slug)
    version = selectors.version_of(fund, number)
    return render(
        request,
        "rules/version.html",
        {
            "fund": fund,
            "version": version,
            "document": selectors.document_of(version),
            "in_force": selectors.current_version(fund),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def rule_draft_edit(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    fund = _fund(request, slug)
    version = selectors.version_of(fund, number)
    if not version.is_draft:
        messages.info(request, _("A published version cannot change: start a new draft."))
        return redirect("rule_version", slug=fund.slug, number=version.number)
    mode = request.POST.get("mode") if request.method == "POST" else None
    editor = RuleEditorForm(request.POST if mode == "fields" else None, document=version.document)
    source_form = SourceForm(
        request.POST if mode == "yaml" else None, initial={"source": version.source}
    )
    bound: RuleEditorForm | SourceForm | None = None
    if mode == "fields":
        bound = editor
    elif mode == "yaml":
        bound = source_form
    if bound is not None and bound.is_valid():
        if isinstance(bound, RuleEditorForm):
            source = bound.updated_source(version.source)
        else:
            source = bound.cleaned_data["source"]
        try:
            services.save_draft(actor=request.user, fund=fund, source=source)
        except services.RuleDocumentInvalid as error:
            bound.add_problems(error.problems)
        except DomainError as error:
            bound.add_error(None, str(error.message))
        else:
            messages.success(request, _("The draft was saved: its rules are valid."))
            return redirect("rule_draft_edit", slug=fund.slug, number=version.number)
    return render(
        request,
        "rules/edit.html",
        {
            "fund": fund,
            "version": version,
            "editor": editor,
            "source_form": source_form,
            "mode": mode,
        },
        status=200,
    )


def _page(request: HttpRequest, items: list[Any], parameter: str) -> Any:
    return Paginator(items, settings.BACKOFFICE_PAGE_SIZE).get_page(request.GET.get(parameter))


@login_required
@require_safe
def rule_version_preview(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    fund = _fund(request, slug)
    version = selectors.version_of(fund, number)
    preview = services.preview_version(actor=request.user, fund=fund, version=version)
    return render(
        request,
        "rules/preview.html",
        {
            "fund": fund,
            "version": version,
            "preview": preview,
            "gainers": _page(request, preview.gainers, "gainers"),
            "losers": _page(request, preview.losers, "losers"),
            "in_force": selectors.current_version(fund),
        },
    )


@login_required
@require_POST
def rule_version_publish(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    fund = _fund(request, slug)
    version = selectors.version_of(fund, number)
    try:
        services.publish_version(actor=request.user, version=version)
    except services.RuleDocumentInvalid as error:
        for problem in error.problems:
            messages.error(request, problem_text(problem))
        return redirect("rule_draft_edit", slug=fund.slug, number=version.number)
    except InvalidTransition as error:
        messages.error(request, str(error.message))
        return redirect("rule_version", slug=fund.slug, number=version.number)
    messages.success(
        request,
        _("Version %(number)s is published. Re-evaluate the pending applications with it?")
        % {"number": version.number},
    )
    return redirect("rule_version_reevaluate", slug=fund.slug, number=version.number)


@login_required
@require_http_methods(["GET", "POST"])
def rule_version_reevaluate(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    fund = _fund(request, slug)
    version = selectors.version_of(fund, number)
    if version.status != RuleSetVersion.Status.PUBLISHED:
        messages.error(request, _("Publish this version before re-evaluating with it."))
        return redirect("rule_version_preview", slug=fund.slug, number=version.number)
    form = ReevaluationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            done = services.reevaluate_pending(
                actor=request.user,
                fund=fund,
                version=version,
                expected_fingerprint=form.cleaned_data["fingerprint"],
            )
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            if done.task_id is not None:
                return redirect("rule_reevaluation_status", slug=fund.slug, task_id=done.task_id)
            assert done.counts is not None
            messages.success(
                request,
                ngettext(
                    "The pending applications were re-evaluated with version %(number)s: "
                    "%(stored)s new evaluation; %(eligible)s pending applications are eligible.",
                    "The pending applications were re-evaluated with version %(number)s: "
                    "%(stored)s new evaluations; %(eligible)s pending applications are eligible.",
                    done.counts["stored"],
                )
                % {
                    "number": version.number,
                    "stored": done.counts["stored"],
                    "eligible": done.counts["eligible"],
                },
            )
            return redirect("rule_versions", slug=fund.slug)
    preview = services.preview_version(actor=request.user, fund=fund, version=version)
    return render(
        request,
        "rules/reevaluate.html",
        {
            "fund": fund,
            "version": version,
            "preview": preview,
            "form": ReevaluationForm(initial={"fingerprint": preview.fingerprint}),
        },
    )


def _reevaluation_of_fund(request: HttpRequest, slug: str, task_id: str) -> tuple[Fund, TaskResult]:
    fund = _fund(request, slug)
    return fund, fund_task_result(reevaluate_pending_applications, task_id, fund.pk)


@login_required
@require_safe
def rule_reevaluation_status(request: HttpRequest, slug: str, task_id: str) -> HttpResponse:
    fund, result = _reevaluation_of_fund(request, slug, task_id)
    return render(
        request,
        "rules/reevaluation_status.html",
        {"fund": fund, "result": result, "progress": progress_of(task_id), "task_id": task_id},
    )
