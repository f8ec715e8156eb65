"""Actions on donor programmes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from entraide.audit import services as audit
from entraide.core.errors import PermissionDenied, ValidationFailed
from entraide.core.money import CENT, ZERO, format_money
from entraide.programmes import rates
from entraide.programmes.models import Allocation, Programme, ProgrammeRole
from entraide.programmes.permissions import require_manage
from entraide.programmes.selectors import lock_programme

if TYPE_CHECKING:
    from entraide.funds.models import Fund


def create_programme(
    *, actor: Any, slug: str, name: str, donor: str, commitment: Decimal, currency: str
) -> Programme:
    if commitment < 0:
        raise ValidationFailed(_("The commitment cannot be negative."), field="commitment")
    with transaction.atomic(durable=True):
        if not actor.has_perm("programmes.add_programme"):
            raise PermissionDenied()
        if Programme.objects.filter(slug=slug).exists():
            raise ValidationFailed(
                _("A programme with this short name already exists."), field="slug"
            )
        programme = Programme.objects.create(
            slug=slug, name=name, donor=donor, commitment=commitment, currency=currency
        )
        audit.record(
            actor=actor,
            action="programme.created",
            obj=programme,
            changes=audit.created(
                audit.snapshot(programme, ("slug", "name", "donor", "commitment", "currency"))
            ),
        )
    return programme


def grant_programme_role(
    *, actor: Any, programme: Programme, user: Any, role: str
) -> ProgrammeRole:
    """Give a person a part in the programme (its managers, or the fund operators). Audited."""
    if role not in ProgrammeRole.Role.values:
        raise ValidationFailed(_("Choose a role."), field="role")
    with transaction.atomic(durable=True):
        require_manage(actor, programme)
        granted, created = ProgrammeRole.objects.get_or_create(
            programme=programme, user=user, role=role
        )
        if created:
            audit.record(
                actor=actor,
                action="programme_role.granted",
                obj=programme,
                changes={"user": user.email, "role": role},
            )
    return granted


def allocate(
    *,
    actor: Any,
    programme: Programme,
    fund: Fund | None,
    amount: Decimal,
    day: dt.date,
    note: str = "",
) -> Allocation:
    """Give part of the programme's commitment to one of its partner funds (``fund``), or keep
    it for crew relief (``None``): the amount in the programme's currency, converted into the
    fund's at the rate of ``day`` (entraide.programmes.rates), both kept with the rates read.
    The allocations never exceed the commitment. The fund's budget is its operator's to
    credit: an allocation is the donor's promise, the ledger what the fund may spend."""
    if amount <= 0:
        raise ValidationFailed(_("The amount must be more than zero."), field="amount")
    if amount != amount.quantize(CENT):
        raise ValidationFailed(_("The amount has at most two decimals."), field="amount")
    require_manage(actor, programme)  # before the rates: who may not allocate learns nothing
    if fund is not None and fund.programme_id != programme.pk:
        raise ValidationFailed(_("This fund is not one of the programme's."), field="fund")
    target = fund.currency if fund is not None else programme.currency
    conversion = rates.conversion(programme.currency, target, day)
    with transaction.atomic(durable=True):
        require_manage(actor, programme)
        programme = lock_programme(programme.pk)
        allocated = allocated_total(programme)
        if allocated + amount > programme.commitment:
            raise ValidationFailed(
                _("Only %(left)s of the commitment is left to allocate.")
                % {"left": format_money(programme.commitment - allocated, programme.currency)},
                field="amount",
            )
        allocation = Allocation.objects.create(
            programme=programme,
            fund=fund,
            amount=amount,
            converted_amount=rates.convert(amount, conversion),
            converted_currency=target,
            rate=conversion.rate,
            rate_day=conversion.day,
            note=note.strip(),
            allocated_by=actor,
            allocated_at=timezone.now(),
        )
        allocation.rates_used.set(conversion.rates)
        audit.record(
            actor=actor,
            action="programme.allocated",
            obj=programme,
            changes={
                "fund": fund.slug if fund is not None else None,
                "amount": amount,
                "currency": programme.currency,
                "converted_amount": allocation.converted_amount,
                "converted_currency": target,
                "rate": conversion.rate,
                "rate_day": conversion.day,
                "rates": [rate.pk for rate in conversion.rates],
                "note": allocation.note,
            },
        )
    return allocation


def allocated_total(programme: Programme) -> Decimal:
    """What the programme has allocated so far, in its currency."""
    total = Allocation.objects.filter(programme=programme).aggregate(total=Sum("amount"))["total"]
    return total if total is not None else ZERO
