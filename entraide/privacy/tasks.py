"""The retention policies, applied every day (registered with entraide.core.schedule)."""

from __future__ import annotations

import logging
from typing import Any

from django.utils import timezone
from django_tasks import task

from entraide.privacy import services

logger = logging.getLogger(__name__)


@task()
def apply_retention() -> dict[str, Any]:
    """Erase what each fund's policy says is due, end the holds that are over, delete stale
    drafts and retry the requests waiting for a hold. Idempotent: a second run the same day
    finds nothing to do; one stopped half-way resumes where it stopped."""
    now = timezone.now()
    totals: dict[str, Any] = {"funds": 0}
    for fund in services.funds_to_check():
        report = services.apply_retention_to_fund(fund, now=now)
        totals["funds"] += 1
        for key, value in report.as_dict().items():
            totals[key] = totals.get(key, 0) + value
    logger.info("retention applied: %s", totals)
    return totals
