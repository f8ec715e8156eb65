"""The crew relief pages of a programme: its settings, its runs (and proposing one), a run with
its payouts (leaving one out, putting it back) and the four eyes (approve, reject).

Crew lists are personal data: these pages are the programme's managers' and the fund
operators' only. Someone who may not read the programme gets 404, its donor's people 403, and
someone with no back-office access at all 403, as on the programme's other pages. A refused
action shows the page again with the reason on the field it concerns, keeping what was typed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from entraide.core.errors import DomainError, PermissionDenied
from entraide.core.forms import add_domain_error
from entraide.crew import relief, relief_selectors
from entraide.crew import selectors as crew_selectors
from entraide.crew.models import Payout, ReliefRun
from entraide.crew.relief_forms import (
    CrewSettingsForm,
    ExcludeForm,
    PayoutFilterForm,
    ProposeRunForm,
    RejectForm,
)
from entraide.programmes.models import Programme


def _refused(request: HttpRequest, form: Any, error: DomainError) -> None:
    """A refusal about a field goes on the form; any other (four eyes, a run decided
    meanwhile) is said above the page."""
    if error.field in form.fields:
        add_domain_error(form, error)
        form.describe_fields()
    else:
        messages.error(request, str(error.message))


# -- settings ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def crew_settings(request: HttpRequest, slug: str) -> HttpResponse:
    """How the programme pays crews: weeks, days in a week, the cap, several productions."""
    programme = crew_selectors.programme_for_crew_staff(request.user, slug)
    current = relief.settings_of(programme)
    form = CrewSettingsForm(
        request.POST if request.method == "POST" else None,
        currency=programme.currency,
        initial={name: getattr(current, name) for name in relief.SETTINGS_FIELDS},
    )
    if request.method == "POST" and form.is_valid():
        try:
            relief.save_settings(actor=request.user, programme=programme, **form.cleaned_data)
        except PermissionDenied:
            raise
        except DomainError as error:
            _refused(request, form, error)
        else:
            messages.success(request, _("The crew relief settings are saved."))
            return redirect("crew_settings", slug=programme.slug)
    return render(
        request,
        "crew/settings.html",
        {"programme": programme, "form": form, "crew_settings": current},
    )


# -- runs --------------------------------------------------------------------------------------


def _render_runs(
    request: HttpRequest, programme: Programme, form: ProposeRunForm | None = None
) -> HttpResponse:
    productions = list(relief_selectors.productions_of(programme))
    page = Paginator(relief_selectors.runs_of(programme), settings.BACKOFFICE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    totals = relief_selectors.live_totals_of_runs([run.pk for run in page])
    form = form or ProposeRunForm(productions=productions)
    return render(
        request,
        "crew/run_list.html",
        {
            "programme": programme,
            "crew_settings": relief.settings_of(programme),
            "funds": relief_selectors.crew_funds(programme),
            "productions": productions,
            "form": form,
            # Each production's check box in its row (the choices are in the same order).
            "choices": list(zip(productions, form["productions"], strict=True)),
            "page": page,
            "rows": [(run, totals.get(run.pk, [])) for run in page],
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def crew_runs(request: HttpRequest, slug: str) -> HttpResponse:
    """The programme's runs; a new run proposed for the productions chosen."""
    programme = crew_selectors.programme_for_crew_staff(request.user, slug)
    if request.method != "POST":
        return _render_runs(request, programme)
    productions = list(relief_selectors.productions_of(programme))
    form = ProposeRunForm(request.POST, productions=productions)
    if form.is_valid():
        try:
            run = relief.propose_run(
                actor=request.user, programme=programme, productions=form.chosen
            )
        except PermissionDenied:
            raise
        except DomainError as error:
            _refused(request, form, error)
        else:
            messages.success(
                request,
                _("The run %(reference)s is proposed: another manager approves or rejects it.")
                % {"reference": run.reference},
            )
            return redirect("crew_run", slug=programme.slug, reference=run.reference)
    return _render_runs(request, programme, form)


def _run_of(request: HttpRequest, slug: str, reference: str) -> ReliefRun:
    programme = crew_selectors.programme_for_crew_staff(request.user, slug)
    run = relief_selectors.run_of(programme, reference)
    if run is None:
        raise Http404
    return run


def _render_run(
    request: HttpRequest,
    run: ReliefRun,
    *,
    reject_form: RejectForm | None = None,
    refused_payout: tuple[int, ExcludeForm] | None = None,
) -> HttpResponse:
    productions = list(run.productions.order_by("suspended_on", "code"))
    filters = PayoutFilterForm(request.GET, productions=productions)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    payouts = relief_selectors.payouts_of(
        run, status=chosen.get("status") or "", production_id=chosen.get("production")
    )
    page = Paginator(payouts, settings.BACKOFFICE_PAGE_SIZE).get_page(request.GET.get("page"))
    reviewing = run.status == ReliefRun.Status.PROPOSED
    rows = []
    for payout in page:
        form = None
        if reviewing and payout.status == Payout.Status.PROPOSED:
            if refused_payout is not None and refused_payout[0] == payout.pk:
                form = refused_payout[1]
            else:
                form = ExcludeForm(prefix=f"payout-{payout.pk}")
        rows.append((payout, form))
    currencies = relief_selectors.totals_by_currency(run)
    may_decide = reviewing and run.proposed_by_id != request.user.pk
    return render(
        request,
        "crew/run_detail.html",
        {
            "programme": run.programme,
            "run": run,
            "productions": productions,
            "reviewing": reviewing,
            "may_decide": may_decide,
            # What the approval is of: it is refused if the payouts changed meanwhile.
            "reviewed": relief_selectors.proposed_fingerprint(run) if may_decide else "",
            "filters": filters,
            "query": urlencode({k: v for k, v in chosen.items() if v not in ("", None)}),
            "page": page,
            "rows": rows,
            "currencies": currencies,
            "funds": relief_selectors.funds_of_run(run),
            "awarded": sum(c.count for c in currencies if c.status == Payout.Status.AWARDED),
            "live": sum(c.count for c in currencies if c.status in Payout.LIVE),
            "reject_form": reject_form or RejectForm(),
        },
    )


@login_required
@require_safe
def crew_run(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    """The run: its totals by currency and fund, each fund's budget, and its payouts."""
    return _render_run(request, _run_of(request, slug, reference))


def _back_to(run: ReliefRun, anchor: str = "") -> HttpResponse:
    url = reverse("crew_run", kwargs={"slug": run.programme.slug, "reference": run.reference})
    return redirect(url + anchor)


@login_required
@require_POST
def crew_run_approve(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    """The second manager approves: the worker grants the payouts."""
    run = _run_of(request, slug, reference)
    try:
        relief.approve_run(actor=request.user, run=run, reviewed=request.POST.get("reviewed", ""))
    except PermissionDenied:
        raise
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("The run %(reference)s is approved: its grants are being made.")
            % {"reference": run.reference},
        )
    return _back_to(run)


@login_required
@require_POST
def crew_run_reject(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    """The second manager rejects, saying why: the proposed payouts are withdrawn."""
    run = _run_of(request, slug, reference)
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            relief.reject_run(actor=request.user, run=run, note=form.cleaned_data["note"])
        except PermissionDenied:
            raise
        except DomainError as error:
            _refused(request, form, error)
        else:
            messages.success(
                request, _("The run %(reference)s is rejected.") % {"reference": run.reference}
            )
            return _back_to(run)
    return _render_run(request, run, reject_form=form)


def _payout_of(request: HttpRequest, slug: str, reference: str, payout_id: int) -> Payout:
    payout = relief_selectors.payout_of(_run_of(request, slug, reference), payout_id)
    if payout is None:
        raise Http404
    return payout


@login_required
@require_POST
def crew_payout_exclude(
    request: HttpRequest, slug: str, reference: str, payout_id: int
) -> HttpResponse:
    """Leave a proposed payout out of the run, saying why."""
    payout = _payout_of(request, slug, reference, payout_id)
    form = ExcludeForm(request.POST, prefix=f"payout-{payout.pk}")
    if form.is_valid():
        try:
            relief.exclude_payout(actor=request.user, payout=payout, note=form.cleaned_data["note"])
        except PermissionDenied:
            raise
        except DomainError as error:
            _refused(request, form, error)
        else:
            messages.success(request, _("The payout is left out of the run."))
            return _back_to(payout.run, f"#payout-{payout.pk}")
    return _render_run(request, payout.run, refused_payout=(payout.pk, form))


@login_required
@require_POST
def crew_payout_include(
    request: HttpRequest, slug: str, reference: str, payout_id: int
) -> HttpResponse:
    """Put back a payout a reviewer left out."""
    payout = _payout_of(request, slug, reference, payout_id)
    try:
        relief.include_payout(actor=request.user, payout=payout)
    except PermissionDenied:
        raise
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The payout is back in the run."))
    return _back_to(payout.run, f"#payout-{payout.pk}")
