"""Messages to applicants: the platform's wording of each kind of message, in French and
English, the fund's own wording where its operator wrote one, and the placeholders both use.

A text is filled with ``str.format_map``: ``{first_name}`` becomes the applicant's first name.
Texts are checked when saved (:func:`placeholder_problems`); a placeholder that slipped through
anyway (a translation, say) stays visible in the message rather than stopping it.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext, pgettext_lazy

from entraide.applications import selectors as application_selectors
from entraide.applications.models import Application
from entraide.core.money import format_money
from entraide.funds import ledger
from entraide.funds.models import Fund
from entraide.review.models import Decision, MessageTemplate
from entraide.rules import selectors as rules_selectors
from entraide.rules.models import RuleSetVersion

Kind = MessageTemplate.Kind

# What each placeholder becomes, as the editing page explains it.
PLACEHOLDERS: dict[str, Promise] = {
    "first_name": _("the applicant's first name"),
    "last_name": _("the applicant's last name"),
    "reference": _("the application's reference"),
    "fund": _("the fund's name"),
    "amount": _("the amount granted, written in the applicant's language"),
    "reasons": _(
        "why the application was rejected: the criteria it does not meet, then the reviewer's "
        "own words"
    ),
    "portal_url": _("the address of the application in the portal"),
    "contact": _("the fund's contact e-mail address (its public page when it has none)"),
}
COMMON = ("first_name", "last_name", "reference", "fund", "portal_url", "contact")
# The placeholders each kind of message may use: an amount only where one was granted,
# reasons only in a rejection.
PLACEHOLDERS_OF: dict[str, tuple[str, ...]] = {
    Kind.APPROVED: (*COMMON, "amount"),
    Kind.REJECTED: (*COMMON, "reasons"),
    Kind.INFO_REQUESTED: COMMON,
    Kind.WAITLISTED: (*COMMON, "amount"),
}

# The platform's wording (English here; the French is in the catalogs, under this context).
DEFAULTS: dict[str, tuple[Promise, Promise]] = {
    Kind.APPROVED: (
        pgettext_lazy("message template", "Your application {reference}: a grant of {amount}"),
        pgettext_lazy(
            "message template",
            "Hello {first_name},\n"
            "\n"
            "Good news: {fund} has approved your application {reference}. You will receive a "
            "one-off grant of {amount}.\n"
            "\n"
            "The money will be sent to the bank account you gave in your application. You do "
            "not need to do anything.\n"
            "\n"
            "You can follow your application in the portal: {portal_url}\n"
            "\n"
            "If you have a question, write to us: {contact}\n"
            "\n"
            "Best wishes,\n"
            "{fund}",
        ),
    ),
    Kind.REJECTED: (
        pgettext_lazy("message template", "Our answer to your application {reference}"),
        pgettext_lazy(
            "message template",
            "Hello {first_name},\n"
            "\n"
            "We have carefully read your application {reference} to {fund}. We are sorry: we "
            "cannot give you a grant this time.\n"
            "\n"
            "Why:\n"
            "{reasons}\n"
            "\n"
            "This answer follows the fund's rules; it says nothing about you or your work. If "
            "you think we have made a mistake, or if your situation has changed, write to us "
            "with your reference: {contact}\n"
            "\n"
            "Your application in the portal: {portal_url}\n"
            "\n"
            "We wish you courage,\n"
            "{fund}",
        ),
    ),
    Kind.INFO_REQUESTED: (
        pgettext_lazy(
            "message template", "We need more information about your application {reference}"
        ),
        pgettext_lazy(
            "message template",
            "Hello {first_name},\n"
            "\n"
            "To decide on your application {reference}, we need a little more information "
            "from you. Here is what we still need:\n"
            "\n"
            "…\n"
            "\n"
            "Please answer this message here, in the portal, adding any document it asks "
            "for. Your application keeps its place while we wait for your answer.\n"
            "\n"
            "Thank you,\n"
            "{fund}",
        ),
    ),
    Kind.WAITLISTED: (
        pgettext_lazy("message template", "Your application {reference} is on the waiting list"),
        pgettext_lazy(
            "message template",
            "Hello {first_name},\n"
            "\n"
            "Your application {reference} to {fund} has been accepted, for a grant of "
            "{amount}. The fund cannot pay it yet: all of its money is committed for now, so "
            "your grant is on a waiting list.\n"
            "\n"
            "When money becomes available, the grants on the list are paid in order. We cannot "
            "tell you yet when, or whether, that will be; we will write to you again as soon "
            "as we know. You do not need to do anything.\n"
            "\n"
            "You can follow your application in the portal: {portal_url}\n"
            "\n"
            "If you have a question, write to us: {contact}\n"
            "\n"
            "Best wishes,\n"
            "{fund}",
        ),
    ),
}


def language_of(application: Application) -> str:
    """The language of the platform's two that the applicant applied in."""
    return "en" if application.language.startswith("en") else "fr"


def default_texts(kind: str, language: str) -> tuple[str, str]:
    """The platform's ``(subject, body)`` of ``kind`` in ``language``, placeholders unfilled."""
    subject, body = DEFAULTS[kind]
    with translation.override(language):
        return str(subject), str(body)


def custom_texts(fund: Fund | int, kind: str, language: str) -> tuple[str, str] | None:
    """The fund's own ``(subject, body)`` of ``kind`` in ``language``, if it wrote one."""
    row = (
        MessageTemplate.objects.filter(fund=fund, kind=kind, language=language)
        .values_list("subject", "body")
        .first()
    )
    return (row[0], row[1]) if row is not None else None


def custom_templates(fund: Fund) -> dict[tuple[str, str], MessageTemplate]:
    """The fund's own wordings by ``(kind, language)``, with who last changed them."""
    return {
        (template.kind, template.language): template
        for template in MessageTemplate.objects.filter(fund=fund).select_related("updated_by")
    }


def current_texts(fund: Fund | int, kind: str, language: str) -> tuple[str, str]:
    """What the fund sends now: its own wording, else the platform's."""
    return custom_texts(fund, kind, language) or default_texts(kind, language)


def placeholder_problems(text: str, kind: str) -> list[str]:
    """What is wrong with the placeholders of ``text`` for a message of ``kind``, in words for
    the operator (empty: it can be saved)."""
    allowed = PLACEHOLDERS_OF[kind]
    try:
        fields = [
            (name, conversion, spec)
            for _literal, name, spec, conversion in string.Formatter().parse(text)
            if name is not None
        ]
    except ValueError:
        return [
            str(
                _(
                    "A brace has no partner. Write a placeholder as {first_name}; for a brace "
                    "in the text itself, write it twice: {{ or }}."
                )
            )
        ]
    problems = []
    for name, conversion, spec in fields:
        if name not in allowed:
            problems.append(
                str(_("{%(name)s} is not a placeholder of this message. You can use: %(known)s."))
                % {"name": name, "known": ", ".join(f"{{{known}}}" for known in allowed)}
            )
        elif conversion or spec:
            typed = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            problems.append(
                str(
                    _("{%(typed)s}: write the placeholder's name alone between braces, {%(name)s}.")
                )
                % {"typed": typed, "name": name}
            )
    return problems


class _KeepUnknown(dict[str, str]):
    """Values for ``format_map``: a placeholder without one is left as it was written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with its placeholders replaced; text that is not a valid template (only an
    unchecked translation could be) is sent as written rather than not at all."""
    try:
        return text.format_map(_KeepUnknown(values))
    except (ValueError, IndexError, AttributeError):
        return text


def amount_text(amount: Decimal, currency: str, language: str) -> str:
    return format_money(amount, currency, locale=language)


def reasons_text(criteria: Sequence[str], labels: Mapping[str, str], reviewer_text: str) -> str:
    """A rejection's grounds as the applicant reads them: one line per criterion not met,
    then the reviewer's own words."""
    lines = "\n".join(f"- {labels.get(criterion, criterion)}" for criterion in criteria)
    return "\n\n".join(part for part in (lines, reviewer_text.strip()) if part)


def criterion_labels(version: RuleSetVersion | None, language: str) -> dict[str, str]:
    if version is None:
        return {}
    document = rules_selectors.document_of(version)
    return {criterion.id: criterion.label.get(language) for criterion in document.criteria}


def contact_of(fund: Fund) -> str:
    if fund.contact_email:
        return fund.contact_email
    return f"{settings.PUBLIC_URL}{reverse('fund_page', kwargs={'slug': fund.slug})}"


def values_of(application: Application, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """What each placeholder becomes for ``application`` (``extra``: the decision's amount
    and reasons, already written in the applicant's language)."""
    fund = application.fund
    return {
        "first_name": application.first_name,
        "last_name": application.last_name,
        "reference": application.reference,
        "fund": fund.name,
        "amount": "",
        "reasons": "",
        "portal_url": application_selectors.status_url(application),
        "contact": contact_of(fund),
        **(extra or {}),
    }


def render_texts(subject: str, body: str, values: Mapping[str, str]) -> tuple[str, str]:
    # A subject is one header line, whatever a placeholder brings into it.
    return " ".join(fill(subject, values).split()), fill(body, values)


def render_message(
    application: Application, kind: str, *, extra: Mapping[str, str] | None = None
) -> tuple[str, str]:
    """``(subject, body)`` of the message of ``kind`` for ``application``, in the language it
    was made in: the fund's wording when it has one, else the platform's."""
    language = language_of(application)
    subject, body = current_texts(application.fund_id, kind, language)
    return render_texts(subject, body, values_of(application, extra))


def outcome_values(application: Application, kind: str) -> dict[str, str]:
    """The amount and reasons of the decision a message of ``kind`` announces, written in the
    applicant's language: the decision's (approved, rejected) or the waiting award's."""
    language = language_of(application)
    if kind == Kind.WAITLISTED:
        award = ledger.award_of(application)
        return (
            {} if award is None else {"amount": amount_text(award.amount, award.currency, language)}
        )
    if kind not in (Kind.APPROVED, Kind.REJECTED):
        return {}
    decision = Decision.objects.select_related("rule_version").get(application=application)
    if kind == Kind.APPROVED:
        return {"amount": amount_text(decision.amount, decision.currency, language)}
    labels = criterion_labels(decision.rule_version, language)
    return {"reasons": reasons_text(decision.reasons, labels, decision.reason)}


def sample_application(fund: Fund, language: str) -> Application:
    """A made-up application of ``fund`` to show a message on (never saved)."""
    return Application(
        fund=fund,
        reference="A-7K3M-9Q2F",
        first_name="Camille",
        last_name="Martin",
        email="camille.martin@example.org",
        language=language,
    )


def sample_values(fund: Fund, language: str) -> dict[str, str]:
    """Placeholder values of the made-up application, with a made-up amount and reasons."""
    with translation.override(language):
        reasons = reasons_text(
            ["example"],
            {"example": pgettext("message preview", "An example of a criterion not met")},
            pgettext("message preview", "The reviewer's explanation, as they wrote it."),
        )
    extra = {
        "amount": amount_text(fund.standard_amount, fund.currency, language),
        "reasons": reasons,
    }
    return values_of(sample_application(fund, language), extra)


def placeholders_for(kind: str) -> list[tuple[str, Any]]:
    """``({name}, what it becomes)`` of the placeholders a message of ``kind`` may use."""
    return [(f"{{{name}}}", PLACEHOLDERS[name]) for name in PLACEHOLDERS_OF[kind]]


def information_request(application: Application) -> str:
    """The start of a request for information to the applicant: the fund's wording, filled."""
    return render_message(application, Kind.INFO_REQUESTED)[1]
