from __future__ import annotations

import secrets
from typing import Any

import factory

from entraide.funds.tests.factories import FundFactory
from entraide.intake.models import Partner, PartnerToken, WebhookDelivery
from entraide.intake.services import SHOWN_PREFIX_LENGTH, TOKEN_PREFIX, hash_token


class PartnerFactory(factory.django.DjangoModelFactory[Partner]):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Syndicat {n}")
    slug = factory.Sequence(lambda n: f"partner-{n}")


class PartnerTokenFactory(factory.django.DjangoModelFactory[PartnerToken]):
    """A token row; use :func:`issued_token` when the test needs the clear token too."""

    class Meta:
        model = PartnerToken

    class Params:
        raw = factory.LazyFunction(lambda: TOKEN_PREFIX + secrets.token_urlsafe(32))

    partner = factory.SubFactory(PartnerFactory)
    fund = factory.SubFactory(FundFactory)
    prefix = factory.LazyAttribute(lambda o: o.raw[:SHOWN_PREFIX_LENGTH])
    token_hash = factory.LazyAttribute(lambda o: hash_token(o.raw))


def issued_token(**kwargs: Any) -> tuple[PartnerToken, str]:
    """A token and its clear value, as ``issue_token`` hands it to the partner."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return PartnerTokenFactory.create(raw=raw, **kwargs), raw


class WebhookDeliveryFactory(factory.django.DjangoModelFactory[WebhookDelivery]):
    class Meta:
        model = WebhookDelivery

    partner = factory.SubFactory(PartnerFactory, webhook_url="http://127.0.0.1:9/entraide-webhook")
    application = factory.SubFactory(
        "entraide.applications.tests.factories.ApplicationFactory",
        partner=factory.SelfAttribute("..partner"),
        applicant=None,
    )
    event = "application.status_changed"
    payload = factory.LazyAttribute(
        lambda o: {
            "event": o.event,
            "reference": o.application.reference,
            "status": o.application.status,
            "occurred_at": o.application.status_changed_at.isoformat(),
        }
    )
