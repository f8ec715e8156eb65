"""A fund's privacy notice (GDPR art. 13): the operator's own text where they wrote one, else
a notice generated from the fund's settings and its retention policy, in the reader's
language."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext, ngettext

from entraide.funds import public
from entraide.funds import selectors as fund_selectors
from entraide.funds.models import Fund
from entraide.privacy import selectors
from entraide.privacy.models import ACCOUNTING_HOLD_YEARS, FundRetentionPolicy


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: list[str]


@dataclass(frozen=True)
class Notice:
    own: bool  # the operator's own text
    sections: list[Section]


def _months(count: int) -> str:
    return ngettext("%(count)d month", "%(count)d months", count) % {"count": count}


def retention_paragraphs(policy: FundRetentionPolicy) -> list[str]:
    return [
        gettext(
            "A refused application, or a grant given up, is erased %(refusal)s after the "
            "refusal or the withdrawal."
        )
        % {"refusal": _months(policy.months_after_refusal)},
        gettext(
            "A paid grant is erased %(payment)s after its last payment, except what accounting "
            "law requires the fund to keep for %(years)d years after the end of the year of "
            "payment (the beneficiary's name, IBAN, amount, payment date and reference): this "
            "is erased then."
        )
        % {"payment": _months(policy.months_after_payment), "years": ACCOUNTING_HOLD_YEARS},
        gettext(
            "An application started and never sent is deleted, with its files, %(closing)s "
            "after the fund closes."
        )
        % {"closing": _months(policy.months_after_closing)},
        gettext(
            "An application under investigation for a possible duplicate or fraud is kept "
            "until the investigation is closed. The fund's statistics keep only counts and "
            "amounts, and its audit log only what happened, never your data."
        ),
    ]


def default_notice(fund: Fund) -> list[Section]:
    policy = selectors.policy_of(fund)
    operator = fund.operator_name or gettext("the fund's operator")
    contact = (
        gettext("Write to %(contact)s.") % {"contact": fund.contact_email}
        if fund.contact_email
        else gettext("Write to %(operator)s, who runs the fund.") % {"operator": operator}
    )
    recipients = [
        gettext(
            "The fund's staff who review, decide on and pay applications, each only as far as "
            "their role requires; the fund's bank, for the transfer (your name, IBAN and the "
            "amount)."
        )
    ]
    if fund.programme_id is not None:
        recipients.append(
            gettext(
                "The donor of the programme the fund belongs to receives statistics only, never "
                "below ten grants, and no data about you."
            )
        )
    recipients.append(
        gettext(
            "Your data is not sold, nor used for anything else, nor sent outside the European "
            "Union by the platform."
        )
    )
    return [
        Section(
            gettext("Who is responsible"),
            [
                gettext(
                    "%(operator)s runs %(fund)s and is responsible (the controller) for the "
                    "personal data you give when you check your eligibility or apply."
                )
                % {"operator": operator, "fund": fund.name}
            ],
        ),
        Section(
            gettext("What is collected"),
            [
                gettext(
                    "Your identity (name, date of birth, social security number), your contact "
                    "details, your profession, your answers about your work, rights and "
                    "resources, your bank details, the documents you send and your messages "
                    "with the fund. The fund also receives records of work and unemployment "
                    "rights, which it compares with your answers."
                )
            ],
        ),
        Section(
            gettext("Why, and on what legal basis"),
            [
                gettext(
                    "To examine your application against the fund's published rules and the "
                    "records, decide on it and pay the grant: this is what you ask for when you "
                    "apply (GDPR, art. 6(1)(b))."
                ),
                gettext(
                    "To keep the fund's accounts: a legal obligation (art. 6(1)(c); French "
                    "Code de commerce, art. L123-22)."
                ),
                gettext(
                    "The rules' evaluation of your answers is checked by a member of the "
                    "fund's staff, who decides: no decision is made by a machine alone."
                ),
                gettext(
                    "To prevent duplicate and fraudulent applications, and to publish "
                    "statistics that name no one: the fund's legitimate interest in spending "
                    "its budget fairly (art. 6(1)(f))."
                ),
            ],
        ),
        Section(gettext("Who sees it"), recipients),
        Section(gettext("How long it is kept"), retention_paragraphs(policy)),
        Section(
            gettext("Your rights"),
            [
                gettext(
                    "You may see your data and download a copy of it (from “My applications”), "
                    "have it corrected, have it erased (from your application's page when it "
                    "was not granted, or by writing to the fund), restrict or object to its "
                    "use. You may complain to the data protection authority (in France, the "
                    "CNIL, www.cnil.fr)."
                ),
                contact,
            ],
        ),
    ]


def notice_of(fund: Fund, language: str) -> Notice:
    own = fund_selectors.text_in(fund, "privacy_notice", language)
    if own:
        return Notice(own=True, sections=[Section("", public.paragraphs(own))])
    return Notice(own=False, sections=default_notice(fund))
