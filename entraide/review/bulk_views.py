"""Assigning many applications at once from the list: the ticked ones, or a whole queue."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from entraide.applications import selectors as application_selectors
from entraide.core.errors import DomainError, PermissionDenied
from entraide.funds import selectors as fund_selectors
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability, capabilities
from entraide.intake import selectors as intake_selectors
from entraide.review import assignments
from entraide.review.list_forms import PAGE_PARAMETERS, ApplicationFilterForm, BulkAssignForm

# A whole queue is shared out this many applications at most at a time.
WHOLE_QUEUE_LIMIT = 10_000


def _back_to_list(fund: Fund, query: str) -> HttpResponseRedirect:
    url = reverse("application_list", kwargs={"slug": fund.slug})
    return redirect(f"{url}?{query}" if query else url)


@login_required
@require_POST
def bulk_assign(request: HttpRequest, slug: str) -> HttpResponse:
    """Assign the ticked applications to a reviewer, share them out, or unassign them."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.VIEW_APPLICATIONS)
    if not capabilities(request.user, fund) & {Capability.DECIDE, Capability.MANAGE_FUND}:
        raise PermissionDenied()
    form = BulkAssignForm(request.POST, reviewers=assignments.reviewers_of(fund))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return _back_to_list(fund, request.POST.get("query", ""))
    try:
        said = _carry_out(request.user, fund, form.cleaned_data)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, said)
    return _back_to_list(fund, form.cleaned_data["query"])


def _carry_out(actor: Any, fund: Fund, data: dict[str, Any]) -> str:
    """Do what the form says; what to tell the person."""
    ids = data["applications"]
    match data["action"]:
        case BulkAssignForm.ASSIGN:
            count = assignments.assign(
                actor=actor, fund=fund, application_ids=ids, reviewer=data["reviewer"]
            )
            return ngettext(
                "%(count)s application assigned to %(reviewer)s.",
                "%(count)s applications assigned to %(reviewer)s.",
                count,
            ) % {"count": count, "reviewer": data["reviewer"]}
        case BulkAssignForm.ROUND_ROBIN:
            return _shared_out(
                assignments.assign_round_robin(actor=actor, fund=fund, application_ids=ids)
            )
    count = assignments.unassign(actor=actor, fund=fund, application_ids=ids)
    return ngettext(
        "%(count)s application unassigned.", "%(count)s applications unassigned.", count
    ) % {"count": count}


def _shared_out(given: dict[int, int]) -> str:
    count = sum(given.values())
    return ngettext(
        "%(count)s application shared among %(people)s reviewers.",
        "%(count)s applications shared among %(people)s reviewers.",
        count,
    ) % {"count": count, "people": len(given)}


@login_required
@require_http_methods(["GET", "POST"])
def queue_round_robin(request: HttpRequest, slug: str) -> HttpResponse:
    """Share out the whole list as filtered (its address's filters), after a summary: the
    fund's managers only."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_FUND)
    reviewers = assignments.reviewers_of(fund)
    form = ApplicationFilterForm(
        request.GET or None, reviewers=reviewers, partners=intake_selectors.partner_choices(fund)
    )
    form.is_valid()
    filters = form.filters()
    ids = application_selectors.queue_ids(request.user, fund, filters, limit=WHOLE_QUEUE_LIMIT + 1)
    query = request.GET.copy()
    for name in PAGE_PARAMETERS:
        query.pop(name, None)
    if request.method == "POST" and request.POST.get("confirmed"):
        try:
            given = assignments.assign_round_robin(
                actor=request.user, fund=fund, application_ids=ids[:WHOLE_QUEUE_LIMIT]
            )
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _shared_out(given))
        return _back_to_list(fund, query.urlencode())
    return render(
        request,
        "review/queue_round_robin.html",
        {
            "fund": fund,
            "queue": dict(application_selectors.Queue.choices).get(filters.queue),
            "search": filters.search,
            "count": min(len(ids), WHOLE_QUEUE_LIMIT),
            "more": len(ids) > WHOLE_QUEUE_LIMIT,
            "reviewers": list(reviewers),
            "query": query.urlencode(),
        },
    )
