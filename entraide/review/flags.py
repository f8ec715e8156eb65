"""Flags: something about an application that a reviewer must look at before deciding.

A reviewer raises one with a note; the platform's own checks (duplicates, integrity) raise
theirs with their own code. A flag stays open until someone who decides resolves it, saying how.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from entraide.applications import selectors as application_selectors
from entraide.applications.models import Application
from entraide.audit import services as audit
from entraide.core.errors import InvalidTransition, ValidationFailed
from entraide.funds.permissions import Capability, require
from entraide.review.models import Flag

REVIEWER = "reviewer"  # the code of a flag raised by a person

# What each code means to a reviewer; a code without a label is shown as it is.
CODE_LABELS: dict[str, Promise] = {
    REVIEWER: pgettext_lazy("flag", "Flagged by a reviewer"),
    # entraide.payments.bank_details.HOLDER_MISMATCH; the note is the holder's name as given.
    "bank_holder_mismatch": pgettext_lazy(
        "flag", "The bank account holder's name differs from the applicant's"
    ),
    # entraide.integrity.signals; the note names the other applications.
    "possible_duplicate": pgettext_lazy("flag", "Possibly the same person as another application"),
    "same_person": pgettext_lazy(
        "flag", "Confirmed as the same person as another application: decide only one"
    ),
    "shared_account": pgettext_lazy(
        "flag", "The bank account is also another person's application's"
    ),
    "shared_contact": pgettext_lazy(
        "flag", "The e-mail address or telephone is also another person's application's"
    ),
    "shared_origin": pgettext_lazy(
        "flag", "Several applications were sent from one place within minutes"
    ),
}


def code_label(code: str) -> str:
    label = CODE_LABELS.get(code)
    return str(label) if label is not None else code


def open_flags(application: Application) -> QuerySet[Flag]:
    return (
        Flag.objects.filter(application=application, resolved_at__isnull=True)
        .select_related("raised_by")
        .order_by("raised_at", "pk")
    )


def flag_of(application: Application, flag_id: int) -> Flag:
    """One of the application's flags, open or resolved (404 for another's)."""
    return get_object_or_404(Flag.objects.filter(application=application), pk=flag_id)


def raise_flag(*, actor: Any, application: Application, code: str, note: str) -> Flag:
    """Flag the application for attention. ``actor`` None is the platform, whose checks may
    run again: an open flag of the same code is then returned instead of a second one. A person
    raises a ``reviewer`` flag and says why."""
    note = note.strip()
    try:
        Flag._meta.get_field("code").clean(code, None)
    except ValidationError:
        raise ValidationFailed(_("A flag's code is a short slug."), field="code") from None
    if actor is not None:
        if code != REVIEWER:
            raise ValidationFailed(_("People raise reviewer flags only."), field="code")
        if not note:
            raise ValidationFailed(_("Say what needs attention."), field="note")
    with transaction.atomic(durable=True):
        if actor is not None:
            require(actor, application.fund, Capability.DECIDE)
        # Queued behind a decision on the application, which then sees the flag or went first.
        application_selectors.lock_application(application.pk)
        if actor is None:
            existing = open_flags(application).filter(code=code, raised_by=None).first()
            if existing is not None:
                return existing
        flag = Flag.objects.create(
            application=application,
            fund_id=application.fund_id,
            code=code,
            note=note,
            raised_by=actor,
            raised_at=timezone.now(),
        )
        audit.record(
            actor=actor,
            action="flag.raised",
            obj=application,
            changes={"flag": flag.pk, "code": code, "note": note},
            fund_id=application.fund_id,
        )
    return flag


def raise_platform_flags(flags: Sequence[tuple[int, int, str, str]], *, check: Model) -> list[Flag]:
    """Raise many of the platform's flags at once, in the caller's transaction:
    ``(application_id, fund_id, code, note)``, skipping those already open with the same code.
    One audit event per fund on the ``check`` that raised them, naming the applications (a full
    duplicate check raises thousands; each flag keeps its own time and code)."""
    if not flags:
        return []
    application_ids = sorted({application_id for application_id, _, _, _ in flags})
    application_selectors.lock_applications(application_selectors.ids_in(application_ids))
    already_open = set(
        Flag.objects.filter(
            application_id__in=application_ids, resolved_at__isnull=True, raised_by=None
        ).values_list("application_id", "code")
    )
    now = timezone.now()
    new: dict[tuple[int, str], Flag] = {}
    for application_id, fund_id, code, note in flags:
        if (application_id, code) not in already_open:
            new.setdefault(
                (application_id, code),
                Flag(
                    application_id=application_id,
                    fund_id=fund_id,
                    code=code,
                    note=note,
                    raised_at=now,
                ),
            )
    created = Flag.objects.bulk_create(new.values())
    by_fund: dict[int, list[Flag]] = defaultdict(list)
    for flag in created:
        by_fund[flag.fund_id].append(flag)
    for fund_id, raised in sorted(by_fund.items()):
        audit.record(
            actor=None,
            action="flag.raised_by_check",
            obj=check,
            changes={
                "flags": len(raised),
                "codes": dict(sorted(Counter(flag.code for flag in raised).items())),
                "applications": sorted({flag.application_id for flag in raised}),
            },
            fund_id=fund_id,
        )
    return created


def resolve_platform_flags(
    *, actor: Any, application_ids: Sequence[int], code: str, resolution: str
) -> int:
    """Close the platform's open flags of ``code`` on these applications, in the caller's
    transaction, once the check that raised them has its answer (the caller checked that the
    ``actor`` may give it). One audit event per flag closed."""
    resolved = list(
        Flag.objects.select_for_update()
        .filter(
            application_id__in=application_ids, code=code, raised_by=None, resolved_at__isnull=True
        )
        .select_related("application")
        .order_by("pk")
    )
    now = timezone.now()
    for flag in resolved:
        flag.resolved_by = actor
        flag.resolved_at = now
        flag.resolution = resolution
        flag.save(update_fields=["resolved_by", "resolved_at", "resolution"])
        audit.record(
            actor=actor,
            action="flag.resolved",
            obj=flag.application,
            changes={"flag": flag.pk, "code": flag.code, "resolution": resolution},
            fund_id=flag.fund_id,
        )
    return len(resolved)


def resolve_flag(*, actor: Any, flag: Flag, resolution: str) -> Flag:
    """Close a flag, saying how it was resolved (for those who decide)."""
    resolution = resolution.strip()
    if not resolution:
        raise ValidationFailed(_("Say how the flag was resolved."), field="resolution")
    with transaction.atomic(durable=True):
        require(actor, flag.fund, Capability.DECIDE)
        flag = (
            Flag.objects.select_for_update(of=("self",))
            .select_related("application")
            .get(pk=flag.pk)
        )
        if flag.resolved_at is not None:
            raise InvalidTransition(_("This flag has already been resolved."))
        flag.resolved_by = actor
        flag.resolved_at = timezone.now()
        flag.resolution = resolution
        flag.save(update_fields=["resolved_by", "resolved_at", "resolution"])
        audit.record(
            actor=actor,
            action="flag.resolved",
            obj=flag.application,
            changes={"flag": flag.pk, "code": flag.code, "resolution": resolution},
            fund_id=flag.fund_id,
        )
    return flag
