"""Actions on partners: registering one, issuing and revoking its tokens, recognising a token,
and queueing the status notifications sent to its webhook.

``actor`` is ``None`` when an operator runs ``entraide intake`` on the server (the audit log
records "system"); a person must be allowed to manage the fund concerned.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_slug
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from entraide.audit import services as audit
from entraide.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from entraide.core.tokens import hash_token
from entraide.core.ttl import TTLCache
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability, require
from entraide.intake import selectors
from entraide.intake.models import Partner, PartnerToken, WebhookDelivery

TOKEN_PREFIX = "ent_"  # noqa: S105 (marks our tokens, e.g. for secret scanners)
# "ent_" and 8 random characters: enough for an operator to tell tokens apart, useless to guess.
SHOWN_PREFIX_LENGTH = len(TOKEN_PREFIX) + 8
# The hot path writes last_used_at at most this often per token.
LAST_USED_PRECISION = dt.timedelta(minutes=1)
STATUS_CHANGED = "application.status_changed"
WEBHOOK_MAX_ATTEMPTS = 8
WEBHOOK_FIRST_RETRY = dt.timedelta(seconds=30)


class PartnerExists(DomainError):
    code = "partner_exists"
    default_message = _("A partner with this short name already exists.")


class TokenAlreadyRevoked(DomainError):
    code = "token_revoked"
    default_message = _("This token has already been revoked.")


class PartnerNotOfFund(NotFound):
    code = "partner_not_of_fund"
    default_message = _("This partner holds no active token for this fund.")


def _require_operator(actor: Any, fund: Fund | None = None) -> None:
    """A person acting must manage the fund; without a fund (a partner registered for no fund
    in particular), be allowed to create funds."""
    if actor is None:
        return
    if fund is None:
        if not actor.has_perm("funds.add_fund"):
            raise PermissionDenied()
        return
    require(actor, fund, Capability.MANAGE_FUND)


def create_partner(
    *, actor: Any, name: str, slug: str, webhook_url: str = "", fund: Fund | None = None
) -> Partner:
    """Register a partner system; its webhook signing secret is generated here.

    With ``fund``, the partner is registered to work with that fund, and managing the fund is
    enough: its operator onboards the fund's partners without being allowed to create funds.
    The partner gets nothing from it until a token for the fund is issued to it."""
    name, slug, webhook_url = name.strip(), slug.strip().lower(), webhook_url.strip()
    if not name:
        raise ValidationFailed(_("This field is required."), field="name")
    try:
        validate_slug(slug)
    except ValidationError:
        raise ValidationFailed(
            _("Use only lower-case letters, digits, hyphens and underscores."), field="slug"
        ) from None
    if webhook_url:
        try:
            URLValidator(schemes=["https", "http"])(webhook_url)
        except ValidationError:
            raise ValidationFailed(
                _("Enter a valid http:// or https:// address."), field="webhook_url"
            ) from None
    try:
        with transaction.atomic(durable=True):
            _require_operator(actor, fund)
            if Partner.objects.filter(slug=slug).exists():
                raise PartnerExists(field="slug")
            partner = Partner.objects.create(name=name, slug=slug, webhook_url=webhook_url)
            audit.record(
                actor=actor,
                action="partner.created",
                obj=partner,
                changes=audit.created(audit.snapshot(partner, ("name", "slug", "webhook_url"))),
                fund_id=fund.pk if fund is not None else None,
            )
    except IntegrityError:
        raise PartnerExists(field="slug") from None
    return partner


def issue_token(
    *, actor: Any, partner: Partner, fund: Fund, name: str = ""
) -> tuple[PartnerToken, str]:
    """A new token of ``partner`` for ``fund``. The clear token is returned here, once: only
    its SHA-256 is stored, so it cannot be shown again."""
    if fund.kind != Fund.Kind.APPLICATIONS:
        raise ValidationFailed(
            _("A crew relief fund takes no application: partners cannot submit to it."),
            field="fund",
        )
    raw_token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic(durable=True):
        _require_operator(actor, fund)
        token = PartnerToken.objects.create(
            partner=partner,
            fund=fund,
            name=name.strip(),
            prefix=raw_token[:SHOWN_PREFIX_LENGTH],
            token_hash=hash_token(raw_token),
            created_by=actor if actor is not None and actor.is_authenticated else None,
        )
        audit.record(
            actor=actor,
            action="partner_token.issued",
            obj=token,
            # The prefix identifies the token to operators; the token and its hash stay out.
            changes=audit.created(
                {
                    "partner": partner.slug,
                    "fund": fund.slug,
                    "name": token.name,
                    "prefix": token.prefix,
                }
            ),
            fund_id=fund.pk,
        )
    return token, raw_token


def revoke_token(*, actor: Any, token: PartnerToken) -> PartnerToken:
    """Refuse the token from now on. Its row stays, for the audit log and its last use."""
    with transaction.atomic(durable=True):
        token = selectors.lock_token(token.pk)
        _require_operator(actor, token.fund)
        if token.revoked_at is not None:
            raise TokenAlreadyRevoked()
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        transaction.on_commit(_active_tokens.clear)
        audit.record(
            actor=actor,
            action="partner_token.revoked",
            obj=token,
            changes={"revoked_at": {"before": None, "after": token.revoked_at.isoformat()}},
            fund_id=token.fund_id,
        )
    return token


def reveal_webhook_secret(*, actor: Any, partner: Partner, fund: Fund) -> str:
    """The partner's webhook signing secret, for an operator of a fund the partner works with
    (an active token for it) to pass on. Each reveal is audited: the secret signs the events
    of every fund the partner works with."""
    with transaction.atomic(durable=True):
        _require_operator(actor, fund)
        if not selectors.has_active_token(partner=partner, fund=fund):
            raise PartnerNotOfFund()
        audit.record(
            actor=actor,
            action="partner.webhook_secret_shown",
            obj=partner,
            changes={},
            fund_id=fund.pk,
        )
    return partner.webhook_secret


# Tokens are read on every request of a partner; a revocation reaches the other processes
# within ENTRAIDE_HOT_CACHE_SECONDS (this one at once).
_active_tokens: TTLCache[PartnerToken] = TTLCache()


def authenticate(raw_token: str) -> PartnerToken | None:
    """The active token (with its partner and fund) whose hash matches, else ``None``."""
    if not raw_token.startswith(TOKEN_PREFIX):
        return None
    digest = hash_token(raw_token)
    token = _active_tokens.get_or_load(digest, lambda: selectors.active_token_by_hash(digest))
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        # A plain UPDATE outside any transaction, once a minute at most: not worth an audit event.
        PartnerToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def queue_status_webhook(*, application_id: int, status: str) -> WebhookDelivery | None:
    """Record the status change for the partner's webhook (if the application came from a
    partner that has one) and enqueue its delivery, in one transaction: with the database
    tasks backend, the delivery and its task are stored together or not at all."""
    from entraide.intake.tasks import deliver_webhook

    target = selectors.webhook_target(application_id)
    if target is None:
        return None
    with transaction.atomic(durable=True):
        delivery = WebhookDelivery.objects.create(
            partner_id=target.partner_id,
            application_id=application_id,
            event=STATUS_CHANGED,
            payload={
                "event": STATUS_CHANGED,
                "fund": target.fund,
                "reference": target.reference,
                "status": status,
                "occurred_at": timezone.now().isoformat(),
            },
        )
        deliver_webhook.enqueue(delivery.pk)
    return delivery


def record_delivery_attempt(
    *, delivery: WebhookDelivery, error: str | None, now: dt.datetime | None = None
) -> dt.datetime | None:
    """Count an attempt; returns when to try again, or ``None`` when there is nothing more to
    do (delivered, failed for good, or this attempt was already counted by another run)."""
    now = now or timezone.now()
    attempts = delivery.attempts + 1
    changes: dict[str, Any] = {"attempts": attempts}
    retry_at: dt.datetime | None = None
    if error is None:
        changes |= {"status": WebhookDelivery.Status.DELIVERED, "delivered_at": now}
    else:
        changes["last_error"] = error[:2000]
        if attempts >= WEBHOOK_MAX_ATTEMPTS:
            changes["status"] = WebhookDelivery.Status.FAILED
        else:
            retry_at = now + WEBHOOK_FIRST_RETRY * 2 ** (attempts - 1)
    # Conditional on the attempt counted: a task run twice counts (and re-enqueues) once.
    counted = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDelivery.Status.PENDING, attempts=delivery.attempts
    ).update(**changes)
    return retry_at if counted else None
