"""What the applications app holds about a person, for the privacy app (entraide.privacy): read
for the person's own copy of their data, and erased on request or by a fund's retention policy.

Erasure keeps what the fund's figures and accounts need: the reference, fund, status, dates,
profession, country, the year of birth and the département of the address (the statistics'
age bands and régions), the rule version and the evaluations. A paid grant keeps its bank
details (the beneficiary's name and IBAN) under the accounting hold, erased when it ends.

Every function here changes state inside the caller's transaction (the privacy service's);
files are deleted once that transaction has committed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from entraide.applications import documents as document_store
from entraide.applications.models import (
    Application,
    ApplicationDocument,
    ApplicationDraft,
    ApplicationMessage,
)
from entraide.core.crypto import with_blind_indexes
from entraide.reporting.regions import departement_of

# The identifier an erased application keeps instead of its NIR: unique per application, so
# that the fund's one-application-per-person constraint still holds among erased ones.
ERASED_PREFIX = "ERASED"
# Personal data erased from every application (the bank details are held when paid).
IDENTITY_FIELDS = (
    "nir",
    "first_name",
    "last_name",
    "birth_date",
    "email",
    "phone",
    "address_line",
    "postcode",
    "city",
    "declared",
    "origin",
)
BANK_FIELDS = ("iban", "bic", "account_holder")
# Statuses where the fund still works on the application: its data is needed to decide.
IN_PROGRESS = frozenset(
    {
        Application.Status.RECEIVED,
        Application.Status.UNDER_REVIEW,
        Application.Status.INFO_REQUESTED,
        Application.Status.WAITLISTED,
    }
)


def erased_identifier(application_id: int) -> str:
    return f"{ERASED_PREFIX}{application_id}"


def is_erased(application: Application) -> bool:
    return str(application.nir).startswith(ERASED_PREFIX)


def _coarse_postcode(country: str, postcode: str) -> str:
    """The département's first postcode (75000, 2A → 20000, 971 → 97100): the régions of the
    statistics stay right, the address is gone."""
    if country.strip().upper() != "FR":
        return ""
    departement = departement_of(postcode)
    if departement is None:
        return ""
    if departement == "2A":
        return "20000"
    if departement == "2B":
        return "20200"
    return departement.ljust(5, "0")


# -- who -------------------------------------------------------------------------------------


def person_application_ids(application: Application) -> list[int]:
    """The applications of the same person in the same fund: the same NIR (its blind index),
    or the same applicant's account."""
    same = Q(pk=application.pk)
    if application.nir_index:
        same |= Q(nir_index=application.nir_index)
    if application.applicant_id is not None:
        same |= Q(applicant_id=application.applicant_id)
    return list(
        Application.objects.filter(same, fund_id=application.fund_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def application_by_id(application_id: int) -> Application:
    return Application.objects.select_related("fund").get(pk=application_id)


def lock(application_id: int) -> Application:
    return Application.objects.select_for_update().select_related("fund").get(pk=application_id)


def references_by_id(ids: Iterable[int]) -> dict[int, str]:
    return dict(Application.objects.filter(pk__in=list(ids)).values_list("pk", "reference"))


# -- what is due -------------------------------------------------------------------------------


def fund_ids_with_applications() -> list[int]:
    return list(Application.objects.values_list("fund_id", flat=True).distinct().order_by())


def ids_in_status(
    fund_id: int, statuses: Iterable[str], *, among: QuerySet[Any, Any] | None = None
) -> QuerySet[Application, Any]:
    """Ids of the fund's applications in these statuses (and ``among`` these ids)."""
    queryset = Application.objects.filter(fund_id=fund_id, status__in=list(statuses))
    if among is not None:
        queryset = queryset.filter(pk__in=among)
    return queryset.values_list("pk", flat=True)


def rejected_before(fund_id: int, cutoff: dt.datetime) -> QuerySet[Application, Any]:
    """Refused applications whose refusal (their last change of status) is older than
    ``cutoff``."""
    return Application.objects.filter(
        fund_id=fund_id, status=Application.Status.REJECTED, status_changed_at__lt=cutoff
    ).values_list("pk", flat=True)


# -- access: the person's own copy -------------------------------------------------------------


@dataclass(frozen=True)
class StoredDocument:
    """A file of the person's, for their copy: where it is in the archive, and how to read it."""

    archive_name: str
    stored_name: str
    entry: dict[str, Any]


def read(stored_name: str) -> bytes:
    """A stored document's bytes in clear (files are encrypted at rest)."""
    return document_store.read(stored_name)


def _document_entry(document: ApplicationDocument, folder: str) -> StoredDocument:
    archive_name = f"{folder}/{document.pk}-{Path(document.original_name).name or 'document'}"
    return StoredDocument(
        archive_name=archive_name,
        stored_name=document.stored_name,
        entry={
            "file": archive_name,
            "name": document.original_name,
            "type": document.content_type,
            "size": document.size,
            "sha256": document.sha256,
            "sent_at": document.uploaded_at,
            "document_asked_for": document.requirement,
        },
    )


def applications_of(user: Any) -> list[Application]:
    return list(
        Application.objects.filter(applicant=user).select_related("fund").order_by("submitted_at")
    )


def subject_application(application: Application) -> tuple[dict[str, Any], list[StoredDocument]]:
    """What the application holds as the person gave it (NIR and IBAN in clear: it is their own
    copy), its thread, and its documents (an infected file is listed, not copied)."""
    folder = f"documents/{application.reference}"
    documents = list(
        ApplicationDocument.objects.filter(application=application).order_by("uploaded_at", "pk")
    )
    files: list[StoredDocument] = []
    sent_with: dict[int | None, list[dict[str, Any]]] = {}
    for document in documents:
        stored = _document_entry(document, folder)
        if document.scan == ApplicationDocument.Scan.INFECTED:
            stored.entry["file"] = None  # blocked by the virus scan: not served, not copied
        else:
            files.append(stored)
        sent_with.setdefault(document.message_id, []).append(stored.entry)
    messages = [
        {
            "sent_at": message.created_at,
            "from": "fund" if message.from_staff else "you",
            "text": message.body,
            "asks_for_information": message.requests_information,
            "documents_asked_for": message.requested_documents,
            "documents": sent_with.get(message.pk, []),
        }
        for message in ApplicationMessage.objects.filter(application=application).order_by(
            "created_at", "pk"
        )
    ]
    data = {
        "reference": application.reference,
        "fund": {"slug": application.fund.slug, "name": application.fund.name},
        "status": application.status,
        "status_label": str(application.get_status_display()),
        "submitted_at": application.submitted_at,
        "status_changed_at": application.status_changed_at,
        "language": application.language,
        "identity": {
            "social_security_number": application.nir,
            "first_name": application.first_name,
            "last_name": application.last_name,
            "birth_date": application.birth_date,
            "profession": application.profession,
        },
        "contact": {
            "email": application.email,
            "phone": application.phone,
            "address": application.address_line,
            "postcode": application.postcode,
            "city": application.city,
            "country": application.country,
        },
        "bank_details": {
            "iban": application.iban,
            "bic": application.bic,
            "account_holder": application.account_holder,
        },
        "answers": application.declared,
        "documents": sent_with.get(None, []),
        "messages": messages,
    }
    return data, files


def subject_drafts(user: Any) -> tuple[list[dict[str, Any]], list[StoredDocument]]:
    """The person's applications in progress (never sent), with their files."""
    drafts, files = [], []
    for draft in ApplicationDraft.objects.filter(applicant=user).select_related("fund"):
        documents = [
            _document_entry(document, f"documents/draft-{draft.fund.slug}")
            for document in ApplicationDocument.objects.filter(draft=draft).order_by("pk")
        ]
        files.extend(documents)
        drafts.append(
            {
                "fund": {"slug": draft.fund.slug, "name": draft.fund.name},
                "started_at": draft.created_at,
                "saved_at": draft.updated_at,
                "answers": draft.data,
                "completed_steps": draft.completed_steps,
                "documents": [stored.entry for stored in documents],
            }
        )
    return drafts, files


# -- erasure -----------------------------------------------------------------------------------


def _discard_on_commit(stored_names: list[str]) -> None:
    def discard() -> None:
        for name in stored_names:
            document_store.discard(name)

    transaction.on_commit(discard)


def _delete_documents(documents: QuerySet[ApplicationDocument]) -> int:
    stored = list(documents.values_list("stored_name", flat=True))
    documents.delete()
    _discard_on_commit(stored)
    return len(stored)


def erase_application(application: Application, *, hold_bank_details: bool) -> dict[str, Any]:
    """Erase the personal data of ``application`` (locked by the caller), its messages' texts
    and its documents (the files once committed); keep its bank details when they are held.
    Returns what was erased and held, by field name, for the audit event."""
    application.nir = erased_identifier(application.pk)
    application.first_name = application.last_name = ""
    application.birth_date = dt.date(application.birth_date.year, 1, 1)
    application.email = application.phone = application.address_line = application.city = ""
    application.postcode = _coarse_postcode(application.country, application.postcode)
    application.declared = {}
    application.origin = ""
    fields = list(IDENTITY_FIELDS)
    if not hold_bank_details:
        application.iban = application.bic = application.account_holder = ""
        fields += BANK_FIELDS
    application.save(update_fields=with_blind_indexes(Application, fields))
    messages = ApplicationMessage.objects.filter(application=application).exclude(body="")
    erased_messages = messages.update(body="")
    erased_documents = _delete_documents(
        ApplicationDocument.objects.filter(application=application)
    )
    return {
        "fields": fields,
        "held": [] if not hold_bank_details else list(BANK_FIELDS),
        "messages": erased_messages,
        "documents": erased_documents,
    }


def erase_held_bank_details(application_id: int) -> list[str]:
    """The end of the accounting hold: the bank details kept for it go too."""
    application = lock(application_id)
    application.iban = application.bic = application.account_holder = ""
    application.save(update_fields=with_blind_indexes(Application, BANK_FIELDS))
    return list(BANK_FIELDS)


def erase_drafts(fund_id: int, *, applicant_id: int | None = None) -> int:
    """Delete the fund's applications in progress (of one applicant, or all of them) with
    their files; returns how many drafts were deleted."""
    drafts = ApplicationDraft.objects.filter(fund_id=fund_id)
    if applicant_id is not None:
        drafts = drafts.filter(applicant_id=applicant_id)
    ids = list(drafts.values_list("pk", flat=True))
    if not ids:
        return 0
    # A draft's files have no application yet (a sent draft's files moved to its application).
    _delete_documents(
        ApplicationDocument.objects.filter(draft_id__in=ids, application__isnull=True)
    )
    deleted, _ = ApplicationDraft.objects.filter(pk__in=ids).delete()
    return len(ids) if deleted else 0


def fund_ids_with_drafts() -> list[int]:
    return list(ApplicationDraft.objects.values_list("fund_id", flat=True).distinct().order_by())
