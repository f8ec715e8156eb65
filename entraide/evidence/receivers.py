"""Listening to the evidence's own changes."""

from __future__ import annotations

import logging
from typing import Any

from entraide.evidence import tasks

logger = logging.getLogger(__name__)


def queue_verification(sender: Any, *, batch_id: int, change: str, **kwargs: Any) -> None:
    """Records were imported or rolled back (sent after commit): verify again the funds they may
    concern, in the background.

    The change is committed already: a failure to queue the verification is logged, never
    turned into an error of the import (a fund's managers can still verify from its page)."""
    try:
        tasks.verify_after_evidence_change.enqueue(batch_id, change)
    except Exception:
        logger.exception("could not queue the verification after evidence batch %s", batch_id)
