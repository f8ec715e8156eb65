"""Actions on funds and their staff. Each is one transaction with its audit event."""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Model
from django.utils.translation import gettext_lazy as _

from entraide.applications import selectors as application_selectors
from entraide.audit import services as audit
from entraide.core.errors import PermissionDenied, ValidationFailed
from entraide.funds import ledger
from entraide.funds.models import Award, Fund, FundDocumentRequirement, FundQuestion, FundRole
from entraide.funds.permissions import Capability, can_create_funds, has_capability, require
from entraide.funds.selectors import lock_fund
from entraide.programmes.models import Programme
from entraide.programmes.permissions import can_manage

FUND_AUDITED_FIELDS = (
    "slug",
    "name",
    "currency",
    "budget",
    "standard_amount",
    "opens_on",
    "opening_time",
    "closes_on",
    "closing_time",
    "time_zone",
    "programme_id",
    "kind",
)
PUBLIC_PAGE_FIELDS = (
    "summary_fr",
    "summary_en",
    "privacy_notice_fr",
    "privacy_notice_en",
    "operator_name",
    "contact_email",
    "opening_time",
    "closing_time",
)
# Texts written in both languages or in neither: the page is complete in French and English.
PAIRED_TEXTS = (("summary_fr", "summary_en"), ("privacy_notice_fr", "privacy_notice_en"))


def _check_window(
    opens_on: dt.date, opening_time: dt.time, closes_on: dt.date, closing_time: dt.time
) -> None:
    if closes_on < opens_on:
        raise ValidationFailed(
            _("The window must close on or after the day it opens."), field="closes_on"
        )
    if closes_on == opens_on and closing_time < opening_time:
        raise ValidationFailed(
            _("On a one-day window, applications must close after they open."),
            field="closing_time",
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
    opening_time: dt.time = dt.time(0, 0),
    closing_time: dt.time = dt.time(23, 59),
    time_zone: str = "Europe/Paris",
    description: str = "",
    programme_id: int | None = None,
    kind: str = Fund.Kind.APPLICATIONS,
) -> Fund:
    """Open a new fund; the person who creates it becomes its operator admin. A crew relief
    fund (``kind``) pays the crews of its programme's productions and takes no application."""
    _check_window(opens_on, opening_time, closes_on, closing_time)
    if kind not in Fund.Kind.values:
        raise ValidationFailed(_("Choose a kind of fund."), field="kind")
    if kind == Fund.Kind.CREW_RELIEF and programme_id is None:
        raise ValidationFailed(
            _("A crew relief fund pays the crews of a programme: choose the programme."),
            field="programme_id",
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
        if programme_id is not None:
            programme = Programme.objects.filter(pk=programme_id).first()
            if programme is None or not can_manage(actor, programme):
                raise ValidationFailed(
                    _("Choose a programme that you manage."), field="programme_id"
                )
        if Fund.objects.filter(slug=slug).exists():
            raise ValidationFailed(_("A fund with this short name already exists."), field="slug")
        fund = Fund.objects.create(
            name=name,
            slug=slug,
            currency=currency,
            budget=budget,
            standard_amount=standard_amount,
            opens_on=opens_on,
            opening_time=opening_time,
            closes_on=closes_on,
            closing_time=closing_time,
            time_zone=time_zone,
            description=description,
            programme_id=programme_id,
            kind=kind,
        )
        audit.record(
            actor=actor,
            action="fund.created",
            obj=fund,
            changes=audit.created(audit.snapshot(fund, FUND_AUDITED_FIELDS)),
            fund_id=fund.pk,
        )
        _grant(actor=actor, fund=fund, user=actor, role=FundRole.Role.OPERATOR_ADMIN)
        ledger.open_ledger(actor=actor, fund=fund)
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


@dataclass(frozen=True)
class DocumentRequirementInput:
    code: str
    label_fr: str
    label_en: str
    help_fr: str = ""
    help_en: str = ""
    required: bool = True


@dataclass(frozen=True)
class FaqEntry:
    question_fr: str
    question_en: str
    answer_fr: str
    answer_en: str


DOCUMENT_FIELDS = tuple(f.name for f in dataclasses.fields(DocumentRequirementInput))
FAQ_FIELDS = tuple(f.name for f in dataclasses.fields(FaqEntry))


def _public_page_state(fund: Fund) -> dict[str, Any]:
    return {
        **audit.snapshot(fund, PUBLIC_PAGE_FIELDS),
        "documents": [
            {name: getattr(row, name) for name in DOCUMENT_FIELDS}
            for row in fund.document_requirements.order_by("position", "pk")
        ],
        "faq": [
            {name: getattr(row, name) for name in FAQ_FIELDS}
            for row in fund.faq.order_by("position", "pk")
        ],
    }


def update_public_page(
    *,
    actor: Any,
    fund: Fund,
    summary_fr: str = "",
    summary_en: str = "",
    privacy_notice_fr: str = "",
    privacy_notice_en: str = "",
    operator_name: str = "",
    contact_email: str = "",
    opening_time: dt.time | None = None,
    closing_time: dt.time | None = None,
    documents: Sequence[DocumentRequirementInput] = (),
    faq: Sequence[FaqEntry] = (),
) -> Fund:
    """Set the public page's texts, the window's times, the documents asked for and the FAQ
    (each list replaces the previous one, in its order). Saving what is already there changes
    and records nothing."""
    texts = {
        "summary_fr": summary_fr.strip(),
        "summary_en": summary_en.strip(),
        "privacy_notice_fr": privacy_notice_fr.strip(),
        "privacy_notice_en": privacy_notice_en.strip(),
        "operator_name": operator_name.strip(),
        "contact_email": contact_email.strip(),
    }
    for french, english in PAIRED_TEXTS:
        if bool(texts[french]) != bool(texts[english]):
            blank = english if texts[french] else french
            raise ValidationFailed(
                _("Write this text in both languages, or leave both blank."), field=blank
            )
    codes = [document.code for document in documents]
    repeated = sorted({code for code in codes if codes.count(code) > 1})
    if repeated:
        raise ValidationFailed(
            _("Each document needs its own code; used more than once: %(codes)s.")
            % {"codes": ", ".join(repeated)},
            field="documents",
        )
    with transaction.atomic(durable=True):
        require(actor, fund, Capability.MANAGE_FUND)
        fund = Fund.objects.select_for_update().get(pk=fund.pk)
        times = {
            "opening_time": fund.opening_time if opening_time is None else opening_time,
            "closing_time": fund.closing_time if closing_time is None else closing_time,
        }
        _check_window(fund.opens_on, times["opening_time"], fund.closes_on, times["closing_time"])
        before = _public_page_state(fund)
        after = {
            **before,
            **texts,
            **times,
            "documents": [dataclasses.asdict(document) for document in documents],
            "faq": [dataclasses.asdict(entry) for entry in faq],
        }
        changes = audit.diff(before, after)
        if not changes:
            return fund
        for name, value in {**texts, **times}.items():
            setattr(fund, name, value)
        fund.save(update_fields=[*texts, *times])
        fund.document_requirements.all().delete()
        FundDocumentRequirement.objects.bulk_create(
            FundDocumentRequirement(fund=fund, position=position, **dataclasses.asdict(document))
            for position, document in enumerate(documents, start=1)
        )
        fund.faq.all().delete()
        FundQuestion.objects.bulk_create(
            FundQuestion(fund=fund, position=position, **dataclasses.asdict(entry))
            for position, entry in enumerate(faq, start=1)
        )
        audit.record(
            actor=actor,
            action="fund.public_page_updated",
            obj=fund,
            changes=changes,
            fund_id=fund.pk,
        )
    return fund


def update_budget_rules(
    *, actor: Any, fund: Fund, award_order: str, second_approval_above: Decimal | None
) -> Fund:
    """Set the order in which waiting awards are funded and the amount above which an approval
    needs a second approver (None: only overrides and changed amounts need one)."""
    if award_order not in Fund.AwardOrder.values:
        raise ValidationFailed(_("Choose an order."), field="award_order")
    if second_approval_above is not None and second_approval_above <= 0:
        raise ValidationFailed(
            _("The amount must be more than zero."), field="second_approval_above"
        )
    with transaction.atomic(durable=True):
        require(actor, fund, Capability.MANAGE_FUND)
        fund = lock_fund(fund.pk)
        before = {
            "award_order": fund.award_order,
            "second_approval_above": fund.second_approval_above,
        }
        after = {"award_order": award_order, "second_approval_above": second_approval_above}
        changes = audit.diff(before, after)
        if changes:
            fund.award_order = award_order
            fund.second_approval_above = second_approval_above
            fund.save(update_fields=["award_order", "second_approval_above"])
            requeued = 0
            if "award_order" in changes and award_order == Fund.AwardOrder.SUBMISSION:
                # Those waiting take their place by submission time, as later approvals will
                # (back to review order, they keep theirs: all before later approvals).
                requeued = Award.objects.filter(fund=fund, status=Award.Status.WAITLISTED).update(
                    queued_at=application_selectors.submitted_at_of("application_id")
                )
            audit.record(
                actor=actor,
                action="fund.budget_rules_updated",
                obj=fund,
                changes={**changes, "requeued": requeued},
                fund_id=fund.pk,
            )
    return fund


SettingsRow = TypeVar("SettingsRow", bound=Model)


def save_fund_settings(
    *,
    actor: Any,
    fund: Fund,
    model: type[SettingsRow],
    fields: Sequence[str],
    values: Mapping[str, Any],
    action: str,
) -> SettingsRow:
    """Change one of a fund's settings (a row per fund, with an ``updated_by``, made with its
    defaults on first save): those who manage the fund; audited before and after."""
    with transaction.atomic(durable=True):
        require(actor, fund, Capability.MANAGE_FUND)
        current, _created = model._default_manager.select_for_update().get_or_create(fund=fund)
        before = audit.snapshot(current, fields)
        for name in fields:
            setattr(current, name, values[name])
        current.updated_by = actor  # type: ignore[attr-defined]
        current.save()
        audit.record(
            actor=actor,
            action=action,
            obj=fund,
            changes=audit.diff(before, audit.snapshot(current, fields)),
            fund_id=fund.pk,
        )
    return current
