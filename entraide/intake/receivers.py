"""Listening to the other domains."""

from __future__ import annotations

import logging
from typing import Any

from entraide.intake import services

logger = logging.getLogger(__name__)


def queue_status_webhook(
    sender: Any, *, application_id: int, status: str, partner: Any, **kwargs: Any
) -> None:
    """Sent after commit by the applications domain on submission and every change of status
    (``partner`` is None for an application made in the portal: nobody to notify).

    The change is committed already: a failure to queue its notification is logged, never
    turned into an error of the action that caused it (the partner can still poll)."""
    if partner is None or not partner.webhook_url:
        return
    try:
        services.queue_status_webhook(application_id=application_id, status=status)
    except Exception:
        logger.exception("could not queue the webhook of application %s", application_id)
