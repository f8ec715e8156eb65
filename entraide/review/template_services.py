"""The operator's wording of the messages to applicants: saving it, and going back to the
platform's."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from entraide.audit import services as audit
from entraide.core.errors import ValidationFailed
from entraide.funds import selectors as fund_selectors
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability, require
from entraide.review import messages
from entraide.review.models import MessageTemplate

LANGUAGES = frozenset(code for code, _name in settings.LANGUAGES)
FIELDS = ("subject", "body")


def save_message_template(
    *, actor: Any, fund: Fund, kind: str, language: str, subject: str, body: str
) -> MessageTemplate | None:
    """Set the fund's wording of one message in one language. The platform's own wording,
    saved unchanged, is not copied: the fund keeps following it (None is returned)."""
    _check_kind_and_language(kind, language)
    subject, body = " ".join(subject.split()), body.strip()
    for field, text in (("subject", subject), ("body", body)):
        if not text:
            raise ValidationFailed(_("This text cannot be empty."), field=field)
        problems = messages.placeholder_problems(text, kind)
        if problems:
            raise ValidationFailed(problems[0], field=field)
    if (subject, body) == messages.default_texts(kind, language):
        reset_message_template(actor=actor, fund=fund, kind=kind, language=language)
        return None
    with transaction.atomic(durable=True):
        require(actor, fund, Capability.MANAGE_FUND)
        # The fund's row queues two people saving the same message at once.
        fund = fund_selectors.lock_fund(fund.pk)
        template = MessageTemplate.objects.filter(fund=fund, kind=kind, language=language).first()
        before = audit.snapshot(template, FIELDS) if template is not None else {}
        after = {"subject": subject, "body": body}
        if before == after:
            return template
        if template is None:
            template = MessageTemplate(fund=fund, kind=kind, language=language)
        template.subject, template.body = subject, body
        template.updated_by, template.updated_at = actor, timezone.now()
        template.save()
        audit.record(
            actor=actor,
            action="message_template.saved",
            obj=template,
            changes={"kind": kind, "language": language, **audit.diff(before, after)},
            fund_id=fund.pk,
        )
    return template


def reset_message_template(*, actor: Any, fund: Fund, kind: str, language: str) -> None:
    """Go back to the platform's wording of one message in one language."""
    _check_kind_and_language(kind, language)
    with transaction.atomic(durable=True):
        require(actor, fund, Capability.MANAGE_FUND)
        fund = fund_selectors.lock_fund(fund.pk)
        template = MessageTemplate.objects.filter(fund=fund, kind=kind, language=language).first()
        if template is None:
            return
        audit.record(
            actor=actor,
            action="message_template.reset",
            obj=template,
            changes={
                "kind": kind,
                "language": language,
                **audit.diff(audit.snapshot(template, FIELDS), {}),
            },
            fund_id=fund.pk,
        )
        template.delete()


def _check_kind_and_language(kind: str, language: str) -> None:
    if kind not in MessageTemplate.Kind.values:
        raise ValidationFailed(_("Not a kind of message."), field="kind")
    if language not in LANGUAGES:
        raise ValidationFailed(_("Not a language of the platform."), field="language")
