"""A fund's public page as applicants read it, in their language: generated from the fund's
settings and the rules that will judge an application made now, with the operator's own texts
where they wrote some and sound default texts where they did not."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from babel.numbers import format_decimal
from django.utils.translation import gettext, ngettext

from entraide.core.money import current_locale, format_money
from entraide.funds import selectors
from entraide.funds.models import Fund
from entraide.funds.window import WindowState, evaluation_day, moment_text, window_state
from entraide.rules import selectors as rule_selectors
from entraide.rules.document import (
    AllOf,
    AnyOf,
    Combination,
    Component,
    NoneOf,
    Ref,
    RuleDocument,
)

PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class Condition:
    """A criterion (``text`` alone), or a group of conditions under ``text``."""

    text: str
    children: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class AmountLine:
    label: str
    text: str


@dataclass(frozen=True)
class Requirement:
    label: str
    help: str
    required: bool


@dataclass(frozen=True)
class Answered:
    question: str
    answer: list[str]  # paragraphs


@dataclass
class PublicPage:
    window: WindowState
    opens: str
    closes: str
    summary: list[str]  # paragraphs
    document: RuleDocument | None
    conditions: Condition | None = None
    exclusions: list[str] = field(default_factory=list)
    amounts: list[AmountLine] = field(default_factory=list)
    amounts_combine: str = "sum"
    documents: list[Requirement] = field(default_factory=list)
    privacy_notice: list[str] = field(default_factory=list)
    faq: list[Answered] = field(default_factory=list)


def paragraphs(text: str) -> list[str]:
    """Text typed in a text area, cut at its blank lines."""
    return [part.strip() for part in PARAGRAPH_BREAK.split(text.strip()) if part.strip()]


def rules_for(fund: Fund, now: dt.datetime | None = None) -> RuleDocument | None:
    """The published rules that would judge an application made now (those of the opening day
    before the window opens), or None."""
    version = rule_selectors.version_in_force(fund, evaluation_day(fund, now))
    return rule_selectors.document_of(version) if version is not None else None


# -- conditions and amounts --------------------------------------------------------------------


def _lower_first(text: str) -> str:
    """A label inside a sentence: "Annual resources" reads "annual resources"; "CDDU hours"
    stays as it is."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _criterion(document: RuleDocument, criterion_id: str, language: str) -> str:
    return document.criterion(criterion_id).label.get(language)


def conditions(document: RuleDocument, combination: Combination, language: str) -> Condition:
    """The eligibility as a nested list: criteria by their labels, groups by how they combine."""

    def group(heading: str, items: tuple[Combination, ...]) -> Condition:
        return Condition(heading, tuple(conditions(document, item, language) for item in items))

    match combination:
        case Ref(criterion=criterion_id):
            return Condition(_criterion(document, criterion_id, language))
        case AllOf(items=items):
            return group(gettext("All of the following:"), items)
        case AnyOf(items=items):
            return group(gettext("At least one of the following:"), items)
        case NoneOf(item=AnyOf(items=items)):
            return group(gettext("None of the following:"), items)
        case NoneOf(item=AllOf(items=items)):
            return group(gettext("Not all of the following at once:"), items)
        case NoneOf(item=NoneOf(item=item)):
            return conditions(document, item, language)
        case NoneOf(item=Ref(criterion=criterion_id)):
            return Condition(
                gettext("Not: %(condition)s")
                % {"condition": _criterion(document, criterion_id, language)}
            )
    raise AssertionError(combination)


def _inline(document: RuleDocument, combination: Combination, language: str) -> str:
    """A combination in one phrase, for the middle of a sentence."""

    def listed(items: tuple[Combination, ...]) -> str:
        return ", ".join(_inline(document, item, language) for item in items)

    match combination:
        case Ref(criterion=criterion_id):
            return _lower_first(_criterion(document, criterion_id, language))
        case AllOf(items=items):
            return gettext("all of: %(items)s") % {"items": listed(items)}
        case AnyOf(items=items):
            return gettext("any of: %(items)s") % {"items": listed(items)}
        case NoneOf(item=AnyOf(items=items)):
            return gettext("none of: %(items)s") % {"items": listed(items)}
        case NoneOf(item=item):
            return gettext("not %(condition)s") % {"condition": _inline(document, item, language)}
    raise AssertionError(combination)


def _name_label(document: RuleDocument, name: str, language: str) -> str:
    """What a fact, an aggregate or a parameter measures, for a sentence."""
    fact = document.fact(name)
    if fact is not None:
        return _lower_first(fact.label.get(language))
    aggregate = document.aggregate(name)
    if aggregate is not None and aggregate.label is not None:
        return _lower_first(aggregate.label.get(language))
    return name


def _money(document: RuleDocument, amount: Decimal) -> str:
    return format_money(amount, document.currency)


def _limit(document: RuleDocument, name: str, value: Decimal) -> str:
    fact = document.fact(name)
    if fact is not None and fact.type == "money":
        return _money(document, value)
    return format_decimal(value, locale=current_locale())


def amount_text(document: RuleDocument, component: Component, language: str) -> str:
    """A component in words: "€900 if annual resources ≤ €15,000, otherwise €500"."""
    if component.kind == "flat":
        return _money(document, component.flat)
    if component.kind == "tiers":
        measure = _name_label(document, component.tiers_by, language)
        steps = [
            gettext("%(amount)s if %(measure)s ≤ %(limit)s")
            % {
                "amount": _money(document, tier.amount),
                "measure": measure,
                "limit": _limit(document, component.tiers_by, tier.up_to),
            }
            for tier in component.tiers
        ]
        steps.append(
            gettext("otherwise %(amount)s") % {"amount": _money(document, component.otherwise)}
        )
        return ", ".join(steps)
    if component.kind == "per_unit":
        text = gettext("%(rate)s per unit (%(units)s)") % {
            "rate": _money(document, component.rate),
            "units": _name_label(document, component.units, language),
        }
        if component.cap is not None:
            text += ", " + ngettext(
                "up to %(count)s unit", "up to %(count)s units", component.cap
            ) % {"count": component.cap}
            if component.uncapped_when is not None:
                text += "; " + gettext("no limit when %(condition)s") % {
                    "condition": _inline(document, component.uncapped_when, language)
                }
        return text
    return gettext("between %(min)s and %(max)s, set by the fund for each application") % {
        "min": _money(document, component.range_min),
        "max": _money(document, component.range_max),
    }


def amounts(document: RuleDocument, language: str) -> list[AmountLine]:
    return [
        AmountLine(
            label=component.label.get(language) if component.label else "",
            text=amount_text(document, component, language),
        )
        for component in document.components
    ]


# -- default texts -----------------------------------------------------------------------------


def _operator(fund: Fund) -> str:
    return fund.operator_name or gettext("the fund's operator")


def default_privacy_notice(fund: Fund) -> list[str]:
    """A generic notice naming the fund and its operator: what is collected, why, who sees
    it, for how long, the applicant's rights and whom to write to."""
    names = {"fund": fund.name, "operator": _operator(fund), "contact": fund.contact_email}
    contact = (
        gettext("To use these rights or ask a question about your data, write to %(contact)s.")
        if fund.contact_email
        else gettext(
            "To use these rights or ask a question about your data, write to %(operator)s."
        )
    )
    return [
        text % names
        for text in (
            gettext(
                "%(fund)s is run by %(operator)s, who is responsible for the personal data you "
                "give when you check your eligibility or apply."
            ),
            gettext(
                "What is collected: your identity (name, date of birth, social security "
                "number), your contact details, your profession, your answers about your work, "
                "rights and resources, your bank details and the documents you send."
            ),
            gettext(
                "Why: to check your application against the fund's published rules and records "
                "of work and unemployment rights, to decide on it, to pay the grant, and to "
                "prevent duplicate or fraudulent applications. The answers you give to the "
                "eligibility self-check are kept only in your browser's session, so that your "
                "application can start from them."
            ),
            gettext(
                "Who sees it: the fund's staff who review, decide on and pay applications, each "
                "only as far as their role requires. Your data is not sold, nor used for anything "
                "else."
            ),
            gettext(
                "How long: while your application is handled, then only as long as the law "
                "requires the fund to keep its grant and accounting records; then it is deleted."
            ),
            gettext(
                "Your rights: you may see your data, have it corrected or deleted, restrict or "
                "object to its use, and complain to the data protection authority (in France, "
                "the CNIL)."
            ),
            contact,
        )
    ]


def default_faq(fund: Fund) -> list[Answered]:
    names = {"operator": _operator(fund), "contact": fund.contact_email}
    contact = (
        gettext("Write to %(contact)s. Once you have applied, give your application's reference.")
        if fund.contact_email
        else gettext(
            "Write to %(operator)s, who runs this fund. Once you have applied, give your "
            "application's reference."
        )
    )
    pairs = [
        (
            gettext("How is my application checked?"),
            gettext(
                "Your answers are checked against the fund's published rules, criterion by "
                "criterion, and against the records the fund receives on work and unemployment "
                "rights. A member of the fund's staff then decides, and the decision gives its "
                "reasons."
            ),
        ),
        (
            gettext("Can I apply twice?"),
            gettext(
                "No: there is one application per person to this fund, checked on the social "
                "security number. If something changes, write to the fund instead of applying "
                "again."
            ),
        ),
        (
            gettext("How long until I know?"),
            gettext(
                "Applications are reviewed in the order they arrive. You receive an e-mail when "
                "a decision is made, and your application's page always shows where it stands."
            ),
        ),
        (
            gettext("How am I paid?"),
            gettext(
                "By bank transfer, once the grant is approved, to the account in your name that "
                "you give in your application."
            ),
        ),
        (
            gettext("What if I made a mistake?"),
            gettext(
                "Write to the fund with your application's reference (it is on your receipt) "
                "and what needs correcting. The fund may also ask you for information on your "
                "application's page."
            ),
        ),
        (gettext("Who can I contact?"), contact),
    ]
    return [Answered(question, paragraphs(answer % names)) for question, answer in pairs]


# -- the page ----------------------------------------------------------------------------------


def _summary(fund: Fund, document: RuleDocument | None, language: str) -> list[str]:
    own = selectors.text_in(fund, "summary", language)
    if own:
        return paragraphs(own)
    if document is not None and document.description is not None:
        return [document.description.get(language)]
    return paragraphs(fund.description)


def public_page(fund: Fund, language: str, now: dt.datetime | None = None) -> PublicPage:
    window = window_state(fund, now)
    document = rules_for(fund, now)
    own_notice = selectors.text_in(fund, "privacy_notice", language)
    own_faq = selectors.frequently_asked(fund)
    page = PublicPage(
        window=window,
        opens=moment_text(window.opens_at, fund.time_zone),
        closes=moment_text(window.closes_at, fund.time_zone),
        summary=_summary(fund, document, language),
        document=document,
        documents=[
            Requirement(
                label=selectors.text_in(requirement, "label", language),
                help=selectors.text_in(requirement, "help", language),
                required=requirement.required,
            )
            for requirement in selectors.document_requirements(fund)
        ],
        privacy_notice=paragraphs(own_notice) if own_notice else default_privacy_notice(fund),
        faq=[
            Answered(
                selectors.text_in(item, "question", language),
                paragraphs(selectors.text_in(item, "answer", language)),
            )
            for item in own_faq
        ]
        or default_faq(fund),
    )
    if document is not None:
        page.conditions = conditions(document, document.eligibility, language)
        page.exclusions = [_criterion(document, c, language) for c in document.exclusions]
        page.amounts = amounts(document, language)
        page.amounts_combine = document.combine
    return page
