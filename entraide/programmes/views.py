"""The back office of donor programmes: the list of one's programmes, a programme's roll-up
(its managers also allocate and give roles there), and the exchange rates (fund operators).

The roll-up is read by the programme's managers and by its donor's people: it shows counts and
amounts, never a person (no name, reference or address of an applicant). A refused action shows
the page again with the reason on the field it concerns, keeping what was typed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from entraide.accounts.selectors import user_by_email
from entraide.core.dates import format_day
from entraide.core.errors import DomainError, PermissionDenied
from entraide.core.files import clean_file_name
from entraide.core.forms import add_domain_error
from entraide.core.money import format_money
from entraide.funds.permissions import is_back_office_user
from entraide.programmes import rates, selectors, services
from entraide.programmes.forms import (
    AllocationForm,
    ManualRateForm,
    ProgrammeRoleForm,
    RatesFileForm,
)
from entraide.programmes.models import Programme, ProgrammeRole
from entraide.programmes.permissions import can_manage, is_operator
from entraide.programmes.presenters import allocation_row, rate_text
from entraide.programmes.rollup import FundLine, Rollup, rollup

# How many rates recorded by hand the exchange rates page lists.
MANUAL_RATES_SHOWN = 20


@dataclass(frozen=True)
class FundRow:
    """One partner fund's line of the roll-up, with the rate its figures were converted at."""

    line: FundLine
    rate: str  # empty without an allocation: its figures stay in the fund's currency


# -- the list ----------------------------------------------------------------------------------


@login_required
@require_safe
def programme_list(request: HttpRequest) -> HttpResponse:
    if not is_back_office_user(request.user):
        raise PermissionDenied()
    return render(
        request,
        "programmes/list.html",
        {
            "programmes": selectors.programmes_with_allocated(request.user),
            "can_see_rates": is_operator(request.user),
        },
    )


# -- the roll-up -------------------------------------------------------------------------------


def _render_rollup(
    request: HttpRequest,
    programme: Programme,
    picture: Rollup | None = None,
    allocation_form: AllocationForm | None = None,
    role_form: ProgrammeRoleForm | None = None,
) -> HttpResponse:
    """The roll-up; for the programme's managers, its allocations, people and forms too."""
    picture = rollup(programme) if picture is None else picture
    currency = programme.currency
    managing = can_manage(request.user, programme)
    rows = [
        FundRow(
            line=line,
            rate=(
                ""
                if line.rate is None
                else (_("%(rate)s on average") if line.rate_is_average else "%(rate)s")
                % {"rate": rate_text(line.rate, currency, line.fund.currency)}
            ),
        )
        for line in picture.funds
    ]
    context: dict[str, Any] = {
        "programme": programme,
        "rollup": picture,
        "rows": rows,
        "funds_allocated": picture.allocated - picture.crew_allocated,
        "applications": sum(line.applications for line in picture.funds),
        "granted": sum(line.granted for line in picture.funds),
        # The donor's people read each fund's figures on the programme's reports, where small
        # counts are hidden (with what would give them away) by one rule for every table: here,
        # exact figures beside them would undo it.
        "figures_on_reports": not managing,
        "can_manage": False,
    }
    if managing:
        context.update(
            can_manage=True,
            allocations=[allocation_row(a, currency) for a in picture.allocations],
            allocation_form=allocation_form
            or AllocationForm(funds=[line.fund for line in picture.funds], currency=currency),
            roles=selectors.roles_of(programme),
            role_form=role_form or ProgrammeRoleForm(),
        )
    return render(request, "programmes/rollup.html", context)


@login_required
@require_safe
def programme_rollup(request: HttpRequest, slug: str) -> HttpResponse:
    """The programme's one picture: what was allocated, and each partner fund's figures."""
    programme = selectors.programme_for_reader(request.user, slug)
    return _render_rollup(request, programme)


def _managed_programme(request: HttpRequest, slug: str) -> Programme:
    programme = selectors.programme_for_reader(request.user, slug)
    if not can_manage(request.user, programme):
        raise PermissionDenied()  # a reader of the programme, refused outright
    return programme


@login_required
@require_POST
def programme_allocate(request: HttpRequest, slug: str) -> HttpResponse:
    """Give part of the commitment to a partner fund, or keep it for crew relief."""
    programme = _managed_programme(request, slug)
    picture = rollup(programme)
    form = AllocationForm(
        request.POST, funds=[line.fund for line in picture.funds], currency=programme.currency
    )
    if form.is_valid():
        fund = form.chosen_fund
        try:
            allocation = services.allocate(
                actor=request.user,
                programme=programme,
                fund=fund,
                amount=form.cleaned_data["amount"],
                day=form.cleaned_data["day"],
                note=form.cleaned_data["note"],
            )
        except PermissionDenied:
            raise
        except DomainError as error:
            add_domain_error(form, error)
            form.describe_fields()
        else:
            messages.success(
                request,
                _("%(amount)s allocated to %(to)s: %(converted)s at %(rate)s.")
                % {
                    "amount": format_money(allocation.amount, programme.currency),
                    "to": fund.name if fund is not None else _("crew relief"),
                    "converted": format_money(
                        allocation.converted_amount, allocation.converted_currency
                    ),
                    "rate": rate_text(
                        allocation.rate, programme.currency, allocation.converted_currency
                    ),
                },
            )
            return redirect(reverse("programme_rollup", args=[programme.slug]) + "#allocations")
    return _render_rollup(request, programme, picture, allocation_form=form)


@login_required
@require_POST
def programme_role_grant(request: HttpRequest, slug: str) -> HttpResponse:
    """Give someone who has an account a part in the programme."""
    programme = _managed_programme(request, slug)
    form = ProgrammeRoleForm(request.POST)
    if form.is_valid():
        person = user_by_email(form.cleaned_data["email"])
        if person is None:
            form.add_error("email", _("No account has this e-mail address."))
            form.describe_fields()
        else:
            try:
                services.grant_programme_role(
                    actor=request.user,
                    programme=programme,
                    user=person,
                    role=form.cleaned_data["role"],
                )
            except PermissionDenied:
                raise
            except DomainError as error:
                add_domain_error(form, error)
                form.describe_fields()
            else:
                messages.success(
                    request,
                    _("%(person)s has the role %(role)s in the programme.")
                    % {
                        "person": person.email,
                        "role": ProgrammeRole.Role(form.cleaned_data["role"]).label,
                    },
                )
                return redirect(reverse("programme_rollup", args=[programme.slug]) + "#people")
    return _render_rollup(request, programme, role_form=form)


# -- exchange rates ----------------------------------------------------------------------------


def _require_operator(request: HttpRequest) -> None:
    """The rates serve every programme: the fund operators' (403 for anyone else)."""
    if not is_operator(request.user):
        raise PermissionDenied()


def _render_rates(
    request: HttpRequest,
    file_form: RatesFileForm | None = None,
    manual_form: ManualRateForm | None = None,
    imported: rates.Imported | None = None,
) -> HttpResponse:
    imports = Paginator(selectors.rate_imports(), settings.BACKOFFICE_PAGE_SIZE)
    return render(
        request,
        "programmes/exchange_rates.html",
        {
            "latest": [
                (rate, rate_text(rate.rate, "EUR", rate.currency))
                for rate in selectors.latest_rates()
            ],
            "page": imports.get_page(request.GET.get("page")),
            "manual": [
                (rate, rate_text(rate.rate, "EUR", rate.currency))
                for rate in selectors.manual_rates()[:MANUAL_RATES_SHOWN]
            ],
            "file_form": file_form or RatesFileForm(),
            "manual_form": manual_form or ManualRateForm(),
            "imported": imported,
        },
    )


@login_required
@require_safe
def exchange_rates(request: HttpRequest) -> HttpResponse:
    """The last rate of each currency, the files imported, and the forms to add rates."""
    _require_operator(request)
    return _render_rates(request)


@login_required
@require_POST
def exchange_rates_import(request: HttpRequest) -> HttpResponse:
    """Import a file of the ECB's reference rates; the page shows what it held and the lines
    it could not read (shown at once: they are not kept)."""
    _require_operator(request)
    form = RatesFileForm(request.POST, request.FILES)
    if form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            imported = rates.import_rates(
                actor=request.user,
                file_name=clean_file_name(uploaded.name),
                content=uploaded.read(),
            )
        except PermissionDenied:
            raise
        except DomainError as error:
            add_domain_error(form, error)
            form.describe_fields()
        else:
            done = imported.rate_import
            if imported.created:
                messages.success(
                    request,
                    _(
                        "%(file)s is imported: %(rates)s rates of %(days)s days, %(new)s of "
                        "them new."
                    )
                    % {
                        "file": done.file_name,
                        "rates": done.rates,
                        "days": done.days,
                        "new": imported.new_rates,
                    },
                )
            else:
                messages.info(
                    request,
                    _("This file was already imported (as %(file)s): nothing changed.")
                    % {"file": done.file_name},
                )
            return _render_rates(request, imported=imported)
    return _render_rates(request, file_form=form)


@login_required
@require_POST
def exchange_rate_record(request: HttpRequest) -> HttpResponse:
    """Record a rate by hand; it wins over the ECB's for its day."""
    _require_operator(request)
    form = ManualRateForm(request.POST)
    if form.is_valid():
        try:
            recorded = rates.record_rate(
                actor=request.user,
                currency=form.cleaned_data["currency"],
                day=form.cleaned_data["day"],
                rate=form.cleaned_data["rate"],
                note=form.cleaned_data["note"],
            )
        except PermissionDenied:
            raise
        except DomainError as error:
            add_domain_error(form, error)
            form.describe_fields()
        else:
            messages.success(
                request,
                _("The rate of %(day)s is recorded: %(rate)s.")
                % {
                    "day": format_day(recorded.day),
                    "rate": rate_text(recorded.rate, "EUR", recorded.currency),
                },
            )
            return redirect(reverse("exchange_rates") + "#manual")
    return _render_rates(request, manual_form=form)
