"""Actions on funds and their staff. Each is one transaction with its audit event."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from entraide.audit import services as audit
from entraide.core.errors import PermissionDenied, ValidationFailed
from entraide.funds.models import Fund, FundRole
from entraide.funds.permissions import Capability, can_create_funds, has_capability

FUND_AUDITED_FIELDS = (
    "slug",
    "name",
    "currency",
    "budget",
    "standard_amount",
    "opens_on",
    "closes_on",
    "time_zone",
    "programme_id",
)


def create_fund(
    *,
    actor: Any,
    name: str,
    slug: str,
    currency: str,
    budget: Decimal,
    standard_amount: Decimal,
    opens_on: dt.date,
    closes_on: dt.date,
    time_zone: str = "Europe/Paris",
    description: str = "",
    programme_id: int | None = None,
) -> Fund:
    """Open a new fund; the person who creates it becomes its operator admin."""
    if closes_on < opens_on:
        raise ValidationFailed(
            _("The window must close on or after the day it opens."), field="closes_on"
        )
    if time_zone not in zoneinfo.available_timezones():
        raise ValidationFailed(_("Unknown time zone."), field="time_zone")
    if budget < 0:
        raise ValidationFailed(_("The budget cannot be negative."), field="budget")
    if standard_amount <= 0:
        raise ValidationFailed(_("The grant must be more than zero."), field="standard_amount")
    with transaction.atomic(durable=True):
        if not can_create_funds(actor):
            raise PermissionDenied()
        if Fund.objects.filter(slug=slug).exists():
            raise ValidationFailed(_("A fund with this short name already exists."), field="slug")
        fund = Fund.objects.create(
            name=name,
            slug=slug,
            currency=currency,
            budget=budget,
            standard_amount=standard_amount,
            opens_on=opens_on,
            closes_on=closes_on,
            time_zone=time_zone,
            description=description,
            programme_id=programme_id,
        )
        audit.record(
            actor=actor,
            action="fund.created",
            obj=fund,
            changes=audit.created(audit.snapshot(fund, FUND_AUDITED_FIELDS)),
            fund_id=fund.pk,
        )
        _grant(actor=actor, fund=fund, user=actor, role=FundRole.Role.OPERATOR_ADMIN)
    return fund


def grant_fund_role(*, actor: Any, fund: Fund, user: Any, role: str) -> FundRole:
    """Give a person a role on a fund; granting a role they already hold changes nothing."""
    if role not in FundRole.Role.values:
        raise ValidationFailed(_("Unknown role."), field="role")
    with transaction.atomic(durable=True):
        if not has_capability(actor, fund, Capability.MANAGE_FUND):
            raise PermissionDenied()
        existing = FundRole.objects.filter(fund=fund, user=user, role=role).first()
        if existing is not None:
            return existing
        return _grant(actor=actor, fund=fund, user=user, role=role)


def _grant(*, actor: Any, fund: Fund, user: Any, role: str) -> FundRole:
    fund_role = FundRole.objects.create(fund=fund, user=user, role=role)
    audit.record(
        actor=actor,
        action="fund_role.granted",
        obj=fund_role,
        changes=audit.created({"user": user.email, "role": role}),
        fund_id=fund.pk,
    )
    return fund_role
