"""The integrity checks of a fund in the back office: the links to review, one link side by
side with its decision, the full checks, the settings and the report.

Every page reads with VIEW_APPLICATIONS; a full check is requested and a link decided by those
who decide (a link: on either of its funds); the settings need MANAGE_FUND. A refused action
shows the page again with the reason on the field it concerns, keeping what was typed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from entraide.core.errors import DomainError, PermissionDenied
from entraide.core.forms import add_domain_error
from entraide.funds import selectors as fund_selectors
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability, capabilities
from entraide.integrity import selectors, services
from entraide.integrity.forms import IntegritySettingsForm, LinkDecisionForm
from entraide.integrity.models import Link, LinkageRun


def _render(
    request: HttpRequest,
    template: str,
    fund: Fund,
    context: dict[str, Any],
    granted: frozenset[Capability] | None = None,
) -> HttpResponse:
    granted = capabilities(request.user, fund) if granted is None else granted
    return render(request, template, {"fund": fund, "capabilities": granted, **context})


def _page_number(value: str | None) -> int:
    """A page number from the address; 1 for anything else."""
    if value and len(value) <= 9 and value.isascii() and value.isdecimal():
        return int(value)
    return 1


# -- the queue ---------------------------------------------------------------------------------


@login_required
@require_safe
def integrity_queue(request: HttpRequest, slug: str) -> HttpResponse:
    """The fund's links of one list (to review by default), their counts, and the last full
    checks with the button to request another."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.VIEW_APPLICATIONS)
    queue = request.GET.get("queue", "")
    if queue not in selectors.Queue.values:
        queue = selectors.Queue.TO_REVIEW
    page = selectors.queue_page(
        fund,
        queue,
        size=settings.BACKOFFICE_PAGE_SIZE,
        number=_page_number(request.GET.get("page")),
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
    )
    viewable = selectors.viewable_fund_ids(request.user)
    runs = selectors.recent_runs(fund)
    return _render(
        request,
        "integrity/queue.html",
        fund,
        {
            "queue": queue,
            "queues": selectors.queue_counts(fund),
            "page": page,
            "rows": [selectors.row_of(link, fund.pk, viewable) for link in page],
            "query": f"queue={queue}",
            "runs": runs,
            "checking": any(
                run.status in (LinkageRun.Status.QUEUED, LinkageRun.Status.RUNNING) for run in runs
            ),
        },
    )


@login_required
@require_POST
def integrity_check_request(request: HttpRequest, slug: str) -> HttpResponse:
    """Queue a full duplicate check of the fund (with the other funds of its programme)."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.DECIDE)
    try:
        run = services.request_linkage_run(actor=request.user, fund=fund)
    except PermissionDenied:
        raise
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("integrity_queue", slug=fund.slug)
    messages.success(
        request, _("The duplicate check is queued: this page shows what it finds once it is done.")
    )
    return redirect("integrity_run", slug=fund.slug, run_id=run.pk)


@login_required
@require_safe
def integrity_run(request: HttpRequest, slug: str, run_id: int) -> HttpResponse:
    """One full check: what it compared and found, and the values too many applications share
    (by what they are, never by their value)."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.VIEW_APPLICATIONS)
    run = selectors.run_of(fund, run_id)
    page = Paginator(run.crowded, selectors.CROWDED_PAGE).get_page(request.GET.get("page"))
    return _render(
        request,
        "integrity/run.html",
        fund,
        {
            "run": run,
            "page": page,
            "crowded": selectors.crowded(list(page)),
            "groups": selectors.groups(run),
            "in_progress": run.status in (LinkageRun.Status.QUEUED, LinkageRun.Status.RUNNING),
        },
    )


# -- one link ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def integrity_link(request: HttpRequest, slug: str, link_id: int) -> HttpResponse:
    """The two applications side by side, field by field, and the decision: same person or
    different people (those who decide on either fund)."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.VIEW_APPLICATIONS)
    link = selectors.link_of_fund(fund, link_id)
    granted = {fund.pk: capabilities(request.user, fund)}
    for other in (link.left_fund, link.right_fund):
        if other.pk not in granted:
            granted[other.pk] = capabilities(request.user, other)
    can_decide = any(Capability.DECIDE in caps for caps in granted.values())
    form = LinkDecisionForm()
    if request.method == "POST":
        if not can_decide:
            # Refused outright: the service's refusal would otherwise show as a form error.
            raise PermissionDenied()
        form = LinkDecisionForm(request.POST)
        if form.is_valid():
            try:
                services.decide_link(
                    actor=request.user,
                    link=link,
                    same_person=form.same_person,
                    note=form.cleaned_data["note"],
                )
            except PermissionDenied:
                raise
            except DomainError as error:
                if error.field not in form.fields:
                    messages.error(request, str(error.message))
                    return redirect("integrity_link", slug=fund.slug, link_id=link.pk)
                add_domain_error(form, error)
            else:
                said = (
                    _("Recorded: %(left)s and %(right)s are the same person.")
                    if form.same_person
                    else _("Recorded: %(left)s and %(right)s are different people.")
                )
                messages.success(
                    request, said % {"left": link.left.reference, "right": link.right.reference}
                )
                return redirect("integrity_link", slug=fund.slug, link_id=link.pk)
    viewable = {
        fund_id for fund_id, caps in granted.items() if Capability.VIEW_APPLICATIONS in caps
    }
    people = selectors.people_of([link.left_id, link.right_id], viewable)
    return _render(
        request,
        "integrity/link.html",
        fund,
        {
            "link": link,
            "left": selectors.Side(
                link.left.reference, link.left_fund, link.left_fund_id in viewable
            ),
            "right": selectors.Side(
                link.right.reference, link.right_fund, link.right_fund_id in viewable
            ),
            "reasons": selectors.reason_labels(link.reasons),
            "comparisons": selectors.comparisons(link, viewable),
            "neighbours": selectors.neighbours(link, fund, viewable),
            "left_person": people.get(link.left_id, []),
            "right_person": people.get(link.right_id, []),
            "form": form if can_decide and link.status == Link.Status.OPEN else None,
        },
        granted[fund.pk],
    )


# -- settings and report -----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def integrity_settings(request: HttpRequest, slug: str) -> HttpResponse:
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_FUND)
    current = services.settings_of(fund)
    form = IntegritySettingsForm(
        request.POST if request.method == "POST" else None,
        initial={name: getattr(current, name) for name in services.SETTINGS_FIELDS},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.save_integrity_settings(
                actor=request.user, fund=fund, values=form.cleaned_data
            )
        except PermissionDenied:
            raise
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("The integrity settings are saved."))
            return redirect("integrity_settings", slug=fund.slug)
    return _render(
        request, "integrity/settings.html", fund, {"form": form, "integrity_settings": current}
    )


@login_required
@require_safe
def integrity_report(request: HttpRequest, slug: str) -> HttpResponse:
    """What the checks raised and what reviewers decided, on the fund's applications."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.VIEW_APPLICATIONS)
    return _render(request, "integrity/report.html", fund, {"report": selectors.report(fund)})
