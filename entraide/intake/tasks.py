"""Background work of the intake API: delivering webhook events."""

from __future__ import annotations

import json

from django_tasks import task

from entraide.intake import selectors, services, webhooks
from entraide.intake.models import WebhookDelivery


@task()
def deliver_webhook(delivery_id: int) -> str:
    """POST the event to the partner's webhook; on failure, try again later with a doubling
    delay, up to ``WEBHOOK_MAX_ATTEMPTS``. Running it twice sends at most once more."""
    delivery = selectors.delivery_for_sending(delivery_id)
    if delivery.status != WebhookDelivery.Status.PENDING:
        return delivery.status
    partner = delivery.partner
    body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
    # A webhook removed since the event was queued counts as a failed attempt (it may come back).
    error = (
        webhooks.post(partner.webhook_url, partner.webhook_secret, body)
        if partner.webhook_url
        else "no webhook URL"
    )
    retry_at = services.record_delivery_attempt(delivery=delivery, error=error)
    if retry_at is not None:
        deliver_webhook.using(run_after=retry_at).enqueue(delivery_id)
    return error or "delivered"
