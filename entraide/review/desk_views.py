"""The review desk of an application page: who it is assigned to, who is reviewing it, its flags.

Every action posts here and comes back to the application page with a message; a refusal is a
message too (403 for a role that may never do it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from entraide.applications import selectors as application_selectors
from entraide.applications.models import Application
from entraide.core.errors import DomainError, PermissionDenied
from entraide.funds import selectors as fund_selectors
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability, capabilities
from entraide.review import assignments, flags
from entraide.review.desk_forms import AssignForm, FlagForm, ResolveFlagForm


def desk_context(user: Any, fund: Fund, application: Application) -> dict[str, Any]:
    """What the desk panel (``review/_desk_panel.html``) shows to ``user``."""
    granted = capabilities(user, fund)
    can_manage = Capability.MANAGE_FUND in granted
    can_decide = Capability.DECIDE in granted
    pending = application.status in assignments.PENDING_STATUSES
    assignment = assignments.assignment_of(application)
    lock = assignments.lock_holder(application)
    return {
        "pending": pending,
        "can_manage": can_manage,
        "can_decide": can_decide,
        "assignment": assignment,
        "assigned_to_me": assignment is not None and assignment.reviewer_id == user.pk,
        "lock": lock,
        "lock_until": assignments.lock_until(lock, fund.time_zone) if lock is not None else "",
        "locked_by_me": lock is not None and lock.holder_id == user.pk,
        "assign_form": AssignForm(reviewers=assignments.reviewers_of(fund))
        if can_manage and pending
        else None,
        "flags": [
            (
                flag,
                flags.code_label(flag.code),
                ResolveFlagForm(flag_id=flag.pk) if can_decide else None,
            )
            for flag in flags.open_flags(application)
        ],
        "flag_form": FlagForm() if can_decide else None,
    }


def _desk_of(
    request: HttpRequest, slug: str, reference: str, *allowed: Capability
) -> tuple[Fund, Application]:
    """The application, if the person holds one of ``allowed`` on its fund (404 for another
    fund's staff, 403 for a role of the fund that may never do this)."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.VIEW_APPLICATIONS)
    application = application_selectors.application_for_staff(request.user, fund, reference)
    if not capabilities(request.user, fund) & set(allowed):
        raise PermissionDenied()
    return fund, application


def _back(fund: Fund, application: Application) -> HttpResponse:
    url = reverse(
        "staff_application", kwargs={"slug": fund.slug, "reference": application.reference}
    )
    return redirect(f"{url}#desk")


@contextmanager
def _refusal_as_message(request: HttpRequest) -> Iterator[None]:
    """A service's refusal becomes an error message (a permission refusal stays a 403)."""
    try:
        yield
    except PermissionDenied:
        raise
    except DomainError as error:
        messages.error(request, str(error.message))


def _errors_as_messages(request: HttpRequest, form: forms.Form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else None
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else str(error))


@login_required
@require_POST
def assign(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    """Assign to a reviewer (a fund manager), or take it for oneself (a reviewer)."""
    fund, application = _desk_of(
        request, slug, reference, Capability.MANAGE_FUND, Capability.DECIDE
    )
    form = AssignForm(request.POST, reviewers=assignments.reviewers_of(fund))
    if not form.is_valid():
        _errors_as_messages(request, form)
        return _back(fund, application)
    reviewer = form.cleaned_data["reviewer"]
    with _refusal_as_message(request):
        if assignments.assign(
            actor=request.user, fund=fund, application_ids=[application.pk], reviewer=reviewer
        ):
            messages.success(request, _("Assigned to %(person)s.") % {"person": reviewer})
        else:
            messages.error(request, _("This application has already been decided."))
    return _back(fund, application)


@login_required
@require_POST
def unassign(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    """Take it out of its reviewer's queue (a fund manager), or give it back (its reviewer)."""
    fund, application = _desk_of(
        request, slug, reference, Capability.MANAGE_FUND, Capability.DECIDE
    )
    with _refusal_as_message(request):
        if assignments.unassign(actor=request.user, fund=fund, application_ids=[application.pk]):
            messages.success(request, _("The application is no longer assigned."))
        else:
            messages.info(request, _("The application was not assigned to you."))
    return _back(fund, application)


@login_required
@require_POST
def claim(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    """Start (or keep) reviewing it: nobody else may decide it meanwhile."""
    fund, application = _desk_of(request, slug, reference, Capability.DECIDE)
    with _refusal_as_message(request):
        lock = assignments.claim(actor=request.user, application=application)
        messages.success(
            request,
            _("You are reviewing this application until %(time)s.")
            % {"time": assignments.lock_until(lock, fund.time_zone)},
        )
    return _back(fund, application)


@login_required
@require_POST
def release(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    """Stop reviewing it (its reviewer), or lift someone else's lock (a fund manager)."""
    fund, application = _desk_of(
        request, slug, reference, Capability.MANAGE_FUND, Capability.DECIDE
    )
    with _refusal_as_message(request):
        assignments.release(actor=request.user, application=application)
        messages.success(request, _("Nobody is reviewing this application now."))
    return _back(fund, application)


@login_required
@require_POST
def raise_flag(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    fund, application = _desk_of(request, slug, reference, Capability.DECIDE)
    form = FlagForm(request.POST)
    if not form.is_valid():
        _errors_as_messages(request, form)
        return _back(fund, application)
    with _refusal_as_message(request):
        flags.raise_flag(
            actor=request.user,
            application=application,
            code=flags.REVIEWER,
            note=form.cleaned_data["note"],
        )
        messages.success(request, _("The application is flagged for attention."))
    return _back(fund, application)


@login_required
@require_POST
def resolve_flag(request: HttpRequest, slug: str, reference: str, flag_id: int) -> HttpResponse:
    fund, application = _desk_of(request, slug, reference, Capability.DECIDE)
    flag = flags.flag_of(application, flag_id)
    form = ResolveFlagForm(request.POST, flag_id=flag.pk)
    if not form.is_valid():
        _errors_as_messages(request, form)
        return _back(fund, application)
    with _refusal_as_message(request):
        flags.resolve_flag(
            actor=request.user, flag=flag, resolution=form.cleaned_data["resolution"]
        )
        messages.success(request, _("The flag is resolved."))
    return _back(fund, application)
