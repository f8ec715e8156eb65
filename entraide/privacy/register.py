"""The register of processing activities (GDPR art. 30) of the funds an operator admin runs,
generated from each fund's settings and retention policy: one entry per fund, as CSV or
JSON."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext, pgettext

from entraide.funds.models import Fund, FundRole
from entraide.intake import selectors as intake_selectors
from entraide.payments import services as payment_services
from entraide.privacy import selectors
from entraide.privacy.models import ACCOUNTING_HOLD_YEARS
from entraide.privacy.notice import retention_paragraphs

# The columns of the CSV file, in order (the JSON file has the same keys).
COLUMNS = (
    "fund",
    "fund_slug",
    "controller",
    "contact",
    "processing",
    "purposes",
    "legal_bases",
    "data_subjects",
    "data_categories",
    "recipients",
    "transfers",
    "retention",
    "security_measures",
    "generated_at",
)


@dataclass(frozen=True)
class Entry:
    fund: str
    fund_slug: str
    controller: str
    contact: str
    processing: str
    purposes: list[str]
    legal_bases: list[str]
    data_subjects: list[str]
    data_categories: list[str]
    recipients: list[str]
    transfers: list[str]
    retention: list[str]
    security_measures: list[str]
    generated_at: str


def _staff(fund: Fund) -> str:
    counts = Counter(fund.roles.values_list("role", flat=True))
    roles = ", ".join(
        f"{label} ({counts[value]})" for value, label in FundRole.Role.choices if counts[value]
    )
    return gettext("The fund's staff, each as far as their role requires: %(roles)s") % {
        "roles": roles or gettext("none yet")
    }


def _security() -> list[str]:
    measures = [
        gettext(
            "Social security numbers, IBANs, messages and reviewers' notes encrypted at rest "
            "(Fernet, keys rotated); looked up by keyed blind indexes only"
        ),
        gettext(
            "Documents checked by their content, stored outside the web root under random "
            "names, served only to their owner and the fund's staff"
        ),
        gettext(
            "Access by role per fund; four eyes on approvals above thresholds, on overrides of "
            "the rules and on payment releases"
        ),
        gettext("Accounts with verified e-mail addresses, two-factor authentication available"),
        gettext("Append-only, hash-chained audit log of every action, verified on demand"),
        gettext("Pages and exports never show a full social security number or IBAN to staff"),
    ]
    if settings.DOCUMENT_SCANNER:
        measures.append(gettext("Every document scanned for viruses"))
    if settings.SESSION_COOKIE_SECURE:
        measures.append(gettext("HTTPS only, secure cookies"))
    return measures


def entry_of(fund: Fund, policy: Any, generated_at: str) -> Entry:
    crew = fund.kind == Fund.Kind.CREW_RELIEF
    recipients = [_staff(fund)]
    payment_settings = payment_services.settings_of(fund)
    recipients.append(
        gettext("The fund's bank (%(bank)s), for the transfers: name, IBAN, amount")
        % {"bank": payment_settings.debtor_name if payment_settings else gettext("not set yet")}
    )
    partners = [
        fund_partner.partner.name for fund_partner in intake_selectors.partners_of_fund(fund)
    ]
    if partners:
        recipients.append(
            gettext("Partner organisations that submit applications for their members: %(names)s")
            % {"names": ", ".join(partners)}
        )
    if fund.programme_id is not None:
        recipients.append(gettext("The programme's donor: statistics only, never below ten grants"))
    transfers = [gettext("None outside the European Union by the platform")]
    if getattr(settings, "SENTRY_DSN", ""):
        transfers.append(
            gettext("Error reports to Sentry, scrubbed of personal data before they are sent")
        )
    return Entry(
        fund=fund.name,
        fund_slug=fund.slug,
        controller=fund.operator_name or gettext("not set: name the operator on the public page"),
        contact=fund.contact_email,
        processing=(
            gettext("Crew relief: payments to the crews of suspended productions")
            if crew
            else gettext("Emergency relief grants: applications, decisions and payments")
        ),
        purposes=[
            gettext("Examining applications against the fund's published rules and records"),
            gettext("Deciding on applications and paying the grants"),
            gettext("Preventing duplicate and fraudulent applications"),
            gettext("Keeping the fund's accounts"),
            gettext("Statistics that name no one"),
        ],
        legal_bases=[
            gettext("The applicant's request (GDPR art. 6(1)(b))"),
            gettext("Legal obligation: accounting (art. 6(1)(c); Code de commerce L123-22)"),
            gettext("Legitimate interest: preventing fraud (art. 6(1)(f))"),
        ],
        data_subjects=(
            [gettext("Crew members listed in the productions' rosters")]
            if crew
            else [
                gettext("Applicants (freelance film and television workers)"),
                gettext("Holders of the bank accounts given"),
            ]
        )
        + [gettext("The fund's staff (accounts, audit log)")],
        data_categories=[
            gettext("Identity: name, date of birth"),
            gettext("Social security number (or another national identifier)"),
            gettext("Contact details: e-mail address, telephone, postal address"),
            gettext("Professional situation, resources and answers to the rules' questions"),
            gettext("Bank details: IBAN, BIC, account holder"),
            gettext("Documents sent and messages with the fund"),
            gettext("Records of work and unemployment rights received by the fund"),
        ],
        recipients=recipients,
        transfers=transfers,
        retention=[
            *retention_paragraphs(policy),
            pgettext("register", "Accounting records: %(years)d years")
            % {"years": ACCOUNTING_HOLD_YEARS},
        ],
        security_measures=_security(),
        generated_at=generated_at,
    )


def register_of(funds: list[Fund]) -> list[Entry]:
    generated_at = timezone.now().isoformat(timespec="seconds")
    policies = selectors.policies_of(funds)
    return [entry_of(fund, policies[fund.pk], generated_at) for fund in funds]


def as_json(entries: list[Entry]) -> bytes:
    return json.dumps(
        {"register_of_processing_activities": [asdict(entry) for entry in entries]},
        ensure_ascii=False,
        indent=2,
    ).encode()


def as_csv(entries: list[Entry]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for entry in entries:
        values = asdict(entry)
        writer.writerow(
            "\n".join(value) if isinstance(value, list) else value
            for value in (values[column] for column in COLUMNS)
        )
    # With a byte order mark, so that spreadsheets read the accents right.
    return "\ufeff".encode() + buffer.getvalue().encode()
