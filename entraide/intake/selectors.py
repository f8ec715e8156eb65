"""Reading what a partner may see: its own applications to the fund of its token, nothing else;
and, for a fund's operator, the partners working with the fund and their tokens."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from entraide.applications.models import Application
from entraide.funds.models import Fund
from entraide.intake.models import Partner, PartnerToken, WebhookDelivery

MAX_PAGE_SIZE = 100


def active_token_by_hash(token_hash: str) -> PartnerToken | None:
    return (
        PartnerToken.objects.select_related("partner", "fund")
        .filter(token_hash=token_hash, revoked_at__isnull=True)
        .first()
    )


def lock_token(token_id: int) -> PartnerToken:
    return PartnerToken.objects.select_for_update().select_related("fund").get(pk=token_id)


def tokens_by_prefix(prefix: str) -> QuerySet[PartnerToken]:
    return PartnerToken.objects.filter(prefix__startswith=prefix).select_related("partner", "fund")


def partner_by_slug(slug: str) -> Partner | None:
    return Partner.objects.filter(slug=slug).first()


def partners_with_tokens() -> list[Partner]:
    return list(Partner.objects.prefetch_related("tokens__fund").order_by("slug"))


def has_active_token(*, partner: Partner, fund: Fund) -> bool:
    return PartnerToken.objects.filter(partner=partner, fund=fund, revoked_at__isnull=True).exists()


def all_partners() -> QuerySet[Partner]:
    """Every partner, to pick from when issuing a token: one partner works with several funds,
    so it is registered once (its name is not a secret; its tokens and secret are)."""
    return Partner.objects.order_by("name", "slug")


@dataclass(frozen=True)
class FundPartner:
    """A partner as a fund's operator sees it: its tokens for this fund only."""

    partner: Partner
    tokens: list[PartnerToken]
    submitted: int

    @property
    def has_active_token(self) -> bool:
        return any(token.revoked_at is None for token in self.tokens)


def partners_of_fund(fund: Fund) -> list[FundPartner]:
    """The partners holding (or having held) a token for ``fund``, with those tokens (newest
    first, with who issued them) and the number of applications each submitted to ``fund``,
    in two queries whatever their number."""
    submitted = (
        Application.objects.filter(fund=fund, partner=OuterRef("pk"))
        .order_by()
        .values("partner")
        .annotate(count=Count("pk"))
        .values("count")
    )
    tokens = (
        PartnerToken.objects.filter(fund=fund).select_related("created_by").order_by("-created_at")
    )
    partners = (
        Partner.objects.filter(pk__in=PartnerToken.objects.filter(fund=fund).values("partner_id"))
        .annotate(submitted=Coalesce(Subquery(submitted, output_field=IntegerField()), 0))
        .prefetch_related(Prefetch("tokens", queryset=tokens, to_attr="fund_tokens"))
        .order_by("name", "slug")
    )
    return [
        FundPartner(partner=partner, tokens=partner.fund_tokens, submitted=partner.submitted)
        for partner in partners
    ]


def partner_choices(fund: Fund) -> list[tuple[int, str]]:
    """``(id, name)`` of the partners that hold or held a token for ``fund``, by name."""
    return list(
        Partner.objects.filter(pk__in=PartnerToken.objects.filter(fund=fund).values("partner_id"))
        .order_by("name", "slug")
        .values_list("pk", "name")
    )


def partner_of_fund(fund: Fund, slug: str) -> Partner:
    """404 for a partner that never held a token for ``fund``: another fund's partners are not
    this fund's operator's business."""
    return get_object_or_404(
        Partner.objects.filter(pk__in=PartnerToken.objects.filter(fund=fund).values("partner_id")),
        slug=slug,
    )


def token_of_fund(fund: Fund, token_id: int) -> PartnerToken:
    """404 for a token of another fund."""
    return get_object_or_404(
        PartnerToken.objects.select_related("partner", "fund", "created_by"),
        fund=fund,
        pk=token_id,
    )


def applications_of_partner(token: PartnerToken) -> QuerySet[Application]:
    """The applications the token's partner submitted to the token's fund: another partner's,
    or the portal's, do not exist for it."""
    return Application.objects.filter(fund_id=token.fund_id, partner_id=token.partner_id)


def application_of_partner(token: PartnerToken, reference: str) -> Application:
    """404 for any reference that is not one of the partner's, so references cannot be probed."""
    return get_object_or_404(applications_of_partner(token), reference=reference)


def changes_page(
    token: PartnerToken,
    *,
    status: str | None = None,
    changed_since: dt.datetime | None = None,
    after: tuple[dt.datetime, str] | None = None,
    limit: int = 50,
) -> list[Application]:
    """One page of the partner's applications in the order their status last changed (then by
    reference), starting after the ``(status_changed_at, reference)`` of the previous page: a
    change moves an application to the end, so a poller that keeps its cursor sees it again."""
    queryset = applications_of_partner(token)
    if status:
        queryset = queryset.filter(status=status)
    if changed_since is not None:
        queryset = queryset.filter(status_changed_at__gte=changed_since)
    if after is not None:
        changed_at, reference = after
        queryset = queryset.filter(
            Q(status_changed_at__gt=changed_at)
            | Q(status_changed_at=changed_at, reference__gt=reference)
        )
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    return list(
        queryset.only("reference", "status", "submitted_at", "status_changed_at").order_by(
            "status_changed_at", "reference"
        )[:limit]
    )


@dataclass(frozen=True)
class WebhookTarget:
    partner_id: int
    reference: str
    fund: str


def webhook_target(application_id: int) -> WebhookTarget | None:
    """Where to notify a change of the application: its partner, if it has a webhook."""
    row = (
        Application.objects.filter(pk=application_id, partner__isnull=False)
        .exclude(partner__webhook_url="")
        .values_list("partner_id", "reference", "fund__slug")
        .first()
    )
    return WebhookTarget(*row) if row else None


def delivery_for_sending(delivery_id: int) -> WebhookDelivery:
    return WebhookDelivery.objects.select_related("partner").get(pk=delivery_id)
