"""What each audit action means, in words people read (the action ids stay in English)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

ACTION_LABELS: dict[str, Promise] = {
    "account.created": pgettext_lazy("audit action", "Account created"),
    "programme.created": pgettext_lazy("audit action", "Programme created"),
    "fund.created": pgettext_lazy("audit action", "Fund created"),
    "fund.export_requested": pgettext_lazy("audit action", "Export requested"),
    "fund_role.granted": pgettext_lazy("audit action", "Role granted"),
    "application.submitted": pgettext_lazy("audit action", "Application submitted"),
    "application.status_changed": pgettext_lazy("audit action", "Status changed"),
    "decision.recorded": pgettext_lazy("audit action", "Decision recorded"),
    "evidence.batch_loaded": pgettext_lazy("audit action", "Evidence loaded"),
}


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action
