"""Attestations of grants: the PDF an applicant shows their tax or benefits office, and the
public check of its verification code.

An application has an attestation while its award is reserved (approved) or paid. What an
attestation states (the amount, the decision, the payment) is stored the first time it is
issued, with a code derived from those facts by a keyed hash (:func:`code_for`): unforgeable
without the server's key, and the same on every download while the facts stay the same. The
facts changing (paid after approved, paid again after a returned transfer) issue a new code;
the verification page then calls the earlier one superseded, and one whose grant was released
no longer valid. The fund's wording of what the grant is (not taxable, not to be repaid) and its
signatory come from :class:`AttestationSettings` when the PDF is rendered.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from entraide.applications.models import Application
from entraide.audit import services as audit
from entraide.core.errors import NotFound, PermissionDenied
from entraide.core.refs import ALPHABET
from entraide.funds import ledger
from entraide.funds.models import Award, Fund
from entraide.funds.permissions import Capability, require
from entraide.funds.services import save_fund_settings
from entraide.payments import selectors as payment_selectors
from entraide.reporting.models import Attestation, AttestationSettings

LANGUAGES = ("fr", "en")
ATTESTED = (Award.Status.RESERVED, Award.Status.PAID)
KEY_SALT = "entraide.reporting.attestation"
# WeasyPrint logs each step of each PDF at INFO: seven lines per download in the server's log.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
CODE_LENGTH = 16  # 80 bits in Crockford's base32
SETTINGS_FIELDS = ("status_text_fr", "status_text_en", "signatory")


class NoAttestation(NotFound):
    code = "no_attestation"
    default_message = _("This application has no attestation: its grant is not approved.")


# -- the facts and their code ------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """What an attestation of the application's award states now."""

    award: Award
    amount: Decimal
    currency: str
    status: str
    decided_on: dt.date
    paid_on: dt.date | None


def _paid_on(award: Award, fund: Fund) -> dt.date | None:
    """The day the fund sent the award's transfer to its bank (the award became paid then)."""
    moment = payment_selectors.sent_at(award)
    return None if moment is None else fund.local_today(moment)


def facts_of(application: Application) -> Facts | None:
    """The facts an attestation of the application states now; None while it has none (no
    award, or one waiting for budget or released)."""
    award = ledger.live_award(application)
    if award is None or award.status not in ATTESTED:
        return None
    fund = application.fund
    return Facts(
        award=award,
        amount=award.amount,
        currency=award.currency,
        status=award.status,
        decided_on=fund.local_today(award.reserved_at or award.created_at),
        paid_on=_paid_on(award, fund) if award.status == Award.Status.PAID else None,
    )


def has_attestation(application: Application) -> bool:
    """Whether the application has an attestation to download (one query)."""
    return Award.objects.filter(application=application, status__in=ATTESTED).exists()


def _grouped(chars: str) -> str:
    return "-".join(chars[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def code_for(application: Application, facts: Facts) -> str:
    """The verification code of these facts: the first 80 bits of an HMAC keyed with the
    server's secret, in Crockford's base32 (no I, L, O or U), grouped by four."""
    message = ":".join(
        (
            str(application.pk),
            str(facts.award.pk),
            f"{facts.amount:.2f}",
            facts.currency,
            facts.status,
            facts.paid_on.isoformat() if facts.paid_on else "",
        )
    )
    digest = salted_hmac(KEY_SALT, message, algorithm="sha256").digest()
    number = int.from_bytes(digest[: CODE_LENGTH * 5 // 8], "big")
    chars = "".join(
        ALPHABET[(number >> shift) & 31] for shift in range(CODE_LENGTH * 5 - 5, -1, -5)
    )
    return _grouped(chars)


# Crockford's decoding: the letters people read for digits are the digits.
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def normalised_code(value: str) -> str | None:
    """The code as it is stored, from what someone typed (any case, spaces or dashes, O for
    0, I or L for 1); None if it cannot be a code."""
    if len(value) > 64:
        return None
    chars = "".join(value.split()).replace("-", "").upper().translate(_READ_AS)
    if len(chars) != CODE_LENGTH or any(char not in ALPHABET for char in chars):
        return None
    return _grouped(chars)


def _matches(attestation: Attestation, facts: Facts) -> bool:
    return (
        attestation.award_id == facts.award.pk
        and attestation.amount == facts.amount
        and attestation.currency == facts.currency
        and attestation.status == facts.status
        and attestation.paid_on == facts.paid_on
    )


# -- issuing -----------------------------------------------------------------------------------


def _stored(application: Application, facts: Facts) -> tuple[Attestation, bool]:
    """The attestation of these facts, stored now if it is the first (and whether it is).

    Looked up by its facts rather than its code, so that a new server key does not issue a
    second attestation of the same facts; two first downloads at once compute the same code,
    and the unique code lets only one of them store it."""
    same = Attestation.objects.filter(
        application=application,
        award=facts.award,
        amount=facts.amount,
        currency=facts.currency,
        status=facts.status,
        paid_on=facts.paid_on,
    ).first()
    if same is not None:
        return same, False
    code = code_for(application, facts)
    try:
        with transaction.atomic():
            return (
                Attestation.objects.create(
                    code=code,
                    application=application,
                    award=facts.award,
                    amount=facts.amount,
                    currency=facts.currency,
                    status=facts.status,
                    decided_on=facts.decided_on,
                    paid_on=facts.paid_on,
                    issued_at=timezone.now(),
                ),
                True,
            )
    except IntegrityError:
        return Attestation.objects.get(code=code), False


def issue_attestation(
    *, actor: Any, application: Application, language: str, for_staff: bool = False
) -> Attestation:
    """The attestation of the application's grant as it stands, for its applicant or (with
    ``for_staff``) the fund's staff who read applications. Audited when a new one is stored,
    and on every staff download; NoAttestation while the grant is not approved."""
    with transaction.atomic(durable=True):
        if for_staff:
            require(actor, application.fund, Capability.VIEW_APPLICATIONS)
        elif application.applicant_id is None or application.applicant_id != actor.pk:
            raise PermissionDenied()
        facts = facts_of(application)
        if facts is None:
            raise NoAttestation()
        attestation, described = _issued(actor, application, facts)
        if for_staff:
            audit.record(
                actor=actor,
                action="attestation.downloaded",
                obj=attestation,
                changes={**described, "language": language},
                fund_id=application.fund_id,
            )
    return attestation


def issue_without_account(application: Application) -> Attestation | None:
    """The attestation of a grant made to someone with no account to download it (a crew
    member, paid from a roster): issued by the platform to be sent by e-mail. None while the
    grant waits for budget."""
    if application.applicant_id is not None:
        raise PermissionDenied()
    with transaction.atomic(durable=True):
        facts = facts_of(application)
        if facts is None:
            return None
        return _issued(None, application, facts)[0]


def _issued(
    actor: Any, application: Application, facts: Facts
) -> tuple[Attestation, dict[str, Any]]:
    """The attestation of these facts, stored (and audited) the first time; with what the
    audit says of it."""
    attestation, created = _stored(application, facts)
    described = {
        "application": application.reference,
        "code": attestation.code,
        "amount": attestation.amount,
        "currency": attestation.currency,
        "status": attestation.status,
    }
    if created:
        audit.record(
            actor=actor,
            action="attestation.issued",
            obj=attestation,
            changes=described,
            fund_id=application.fund_id,
        )
    return attestation, described


# -- the fund's wording ------------------------------------------------------------------------


def settings_of(fund: Fund) -> AttestationSettings:
    """The fund's wording and signatory (the platform's wording, unsaved, until changed)."""
    found = AttestationSettings.objects.filter(fund=fund).first()
    return found if found is not None else AttestationSettings(fund=fund)


def save_attestation_settings(
    *, actor: Any, fund: Fund, values: dict[str, Any]
) -> AttestationSettings:
    """Reword the fund's attestations (those who manage the fund). Audited, before and after;
    applies to every attestation rendered from now on, the facts and codes unchanged."""
    return save_fund_settings(
        actor=actor,
        fund=fund,
        model=AttestationSettings,
        fields=SETTINGS_FIELDS,
        values=values,
        action="attestation.settings_changed",
    )


# -- the PDF -----------------------------------------------------------------------------------


def language_of(requested: str | None, application: Application | None = None) -> str:
    """The language asked for if the attestation has it, else the application's, else the
    site's default."""
    for candidate in (requested, application.language if application else None):
        short = (candidate or "")[:2].lower()
        if short in LANGUAGES:
            return short
    return str(settings.LANGUAGE_CODE)[:2]


def verification_url(code: str | None = None) -> str:
    url = f"{settings.PUBLIC_URL}{reverse('attestation_verify')}"
    return f"{url}?code={code}" if code else url


def _pdf(context: dict[str, Any], language: str) -> bytes:
    # WeasyPrint takes more than a second to import: loaded on the first attestation, not with
    # every process.
    import weasyprint

    with translation.override(language):
        html = render_to_string("reporting/attestation.html", {**context, "language": language})
    # The attestation embeds everything it shows: no protocol allowed, so nothing is ever
    # fetched (no file, no network), whatever a fund's texts hold.
    document = weasyprint.HTML(
        string=html,
        base_url=str(settings.BASE_DIR),
        url_fetcher=weasyprint.URLFetcher(allowed_protocols=()),
    )
    pdf: bytes = document.write_pdf()
    return pdf


def _wording(wording: AttestationSettings, language: str) -> str:
    return wording.status_text_fr if language == "fr" else wording.status_text_en


def render_attestation(attestation: Attestation, language: str) -> bytes:
    """The attestation as a PDF in ``language``, with the fund's wording as it is now."""
    application = attestation.application
    fund = application.fund
    wording = settings_of(fund)
    return _pdf(
        {
            "fund": fund,
            "beneficiary": application.full_name,
            "birth_date": application.birth_date,
            "reference": application.reference,
            "attestation": attestation,
            "issued_on": fund.local_today(attestation.issued_at),
            "status_text": _wording(wording, language),
            "signatory": wording.signatory,
            "code": attestation.code,
            "verification_url": verification_url(),
            "verification_link": verification_url(attestation.code),
        },
        language,
    )


def render_specimen(fund: Fund, wording: AttestationSettings, language: str) -> bytes:
    """An attestation of a made-up grant with ``wording`` (saved or not), marked as a specimen:
    what the fund's applicants will download."""
    today = fund.local_today()
    specimen = Attestation(
        amount=fund.standard_amount,
        currency=fund.currency,
        status=Attestation.Stage.PAID,
        decided_on=today,
        paid_on=today,
    )
    return _pdf(
        {
            "fund": fund,
            "specimen": True,
            "beneficiary": "Camille Exemple",
            "birth_date": dt.date(1985, 3, 2),
            "reference": "A-0000-0000",
            "attestation": specimen,
            "issued_on": today,
            "status_text": _wording(wording, language),
            "signatory": wording.signatory,
            "code": "0000-0000-0000-0000",
            "verification_url": verification_url(),
            "verification_link": verification_url(),
        },
        language,
    )


# -- verifying ---------------------------------------------------------------------------------


class Verdict(enum.StrEnum):
    VALID = "valid"
    SUPERSEDED = "superseded"  # the grant's facts changed: a newer attestation states them
    WITHDRAWN = "withdrawn"  # the grant was released: no attestation is valid any more
    UNKNOWN = "unknown"  # no such code, or not a code at all: the same answer


@dataclass(frozen=True)
class Verification:
    verdict: Verdict
    attestation: Attestation | None = None

    @property
    def beneficiary(self) -> str:
        return self.attestation.application.full_name if self.attestation else ""

    @property
    def fund(self) -> Fund | None:
        return self.attestation.application.fund if self.attestation else None

    @property
    def issued_on(self) -> dt.date | None:
        attestation = self.attestation
        if attestation is None:
            return None
        return attestation.application.fund.local_today(attestation.issued_at)


def verify(value: str) -> Verification:
    """What a code someone typed attests, compared with the grant as it stands now."""
    code = normalised_code(value)
    if code is None:
        return Verification(Verdict.UNKNOWN)
    attestation = Attestation.objects.select_related("application__fund").filter(code=code).first()
    if attestation is None:
        return Verification(Verdict.UNKNOWN)
    facts = facts_of(attestation.application)
    if facts is None:
        return Verification(Verdict.WITHDRAWN, attestation)
    if not _matches(attestation, facts):
        return Verification(Verdict.SUPERSEDED, attestation)
    return Verification(Verdict.VALID, attestation)
