"""Loading evidence records, starting the import of a file sent through the pages or the API
(the import itself: :mod:`entraide.evidence.imports`), verifying a fund's applications against
the records on request (the verification itself: :mod:`entraide.evidence.fund_verification`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from entraide.applications.models import Application
from entraide.audit import services as audit
from entraide.core.crypto import blind_index
from entraide.core.errors import PermissionDenied, ValidationFailed
from entraide.core.tasks import stored_in_transaction
from entraide.evidence import fund_verification, imports, inbox, partitions, permissions
from entraide.evidence.models import (
    BenefitRecord,
    CancellationRecord,
    EmployerDeclaration,
    EvidenceBatch,
    RightsRecord,
    VerificationRun,
)
from entraide.evidence.signals import announce_change
from entraide.evidence.tasks import enqueue_verification, import_uploaded_evidence
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability, require

ROW_MODELS: dict[str, type[models.Model]] = {
    EvidenceBatch.Kind.DECLARATIONS: EmployerDeclaration,
    EvidenceBatch.Kind.RIGHTS: RightsRecord,
    EvidenceBatch.Kind.BENEFITS: BenefitRecord,
    EvidenceBatch.Kind.CANCELLATIONS: CancellationRecord,
}
# Columns of FORMATS.md whose name is not the model field's (``from`` is a Python keyword).
COLUMN_ALIASES: dict[str, dict[str, str]] = {
    EvidenceBatch.Kind.BENEFITS: {"from": "start", "to": "end"},
}


def _fields(kind: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """The model's fields of a row; a NIR in clear (``nir``) becomes its blind index."""
    aliases = COLUMN_ALIASES.get(kind, {})
    fields = {aliases.get(name, name): value for name, value in row.items()}
    if "nir" in fields:
        fields["nir_index"] = blind_index("nir", fields.pop("nir"))
    return fields


def load_evidence_batch(
    *, actor: Any, kind: str, source: str, rows: Iterable[Mapping[str, Any]]
) -> EvidenceBatch:
    """Store already-validated rows of one kind as one batch, in bulk, with one audit event.

    Rows use the model's field names or the column names of FORMATS.md (a benefit's ``from`` and
    ``to``; ``nir``, the NIR in clear, of which only the blind index is stored). ``actor=None``
    is the platform itself (a command run by the system administrator).
    """
    model = ROW_MODELS[kind]
    with transaction.atomic(durable=True):
        if actor is not None and not actor.has_perm("evidence.add_evidencebatch"):
            raise PermissionDenied()
        batch = EvidenceBatch.objects.create(kind=kind, source=source, loaded_by=actor)
        partitions.ensure(model, batch.pk)
        objects: list[Any] = [model(batch=batch, **_fields(kind, row)) for row in rows]
        model._default_manager.bulk_create(objects, batch_size=2000)
        batch.rows = batch.rows_read = len(objects)
        batch.save(update_fields=["rows", "rows_read"])
        audit.record(
            actor=actor,
            action="evidence.batch_loaded",
            obj=batch,
            changes={"kind": kind, "source": source, "rows": batch.rows},
        )
        transaction.on_commit(lambda: announce_change(batch.pk, kind, "imported"))
    return batch


def record_person_records_viewed(*, actor: Any, application: Application) -> None:
    """Log that a member of the fund's staff looked at everything the records say about the
    applicant: reading personal data is an act the audit log keeps, as changing it is."""
    with transaction.atomic(durable=True):
        require(actor, application.fund, Capability.VIEW_APPLICATIONS)
        audit.record(
            actor=actor,
            action="evidence.person_records_viewed",
            obj=application,
            fund_id=application.fund_id,
        )


def start_import(*, actor: Any, kind: str, uploaded_file: UploadedFile | None, source: str) -> str:
    """Keep the uploaded file in the inbox and import it in the background as ``actor``;
    returns the task's id, to follow its progress and read what it did."""
    # Checked before the file is written: a refused request leaves nothing behind.
    permissions.require(actor, permissions.IMPORT_FILES)
    if kind not in imports.SPECS:
        raise ValidationFailed(
            _("Choose one of: %(kinds)s.") % {"kinds": ", ".join(imports.SPECS)}, field="kind"
        )
    if uploaded_file is None:
        raise ValidationFailed(_("Attach the file to import."), field="file")
    source = source.strip()[:200]
    received = inbox.receive(uploaded_file)
    language = get_language() or settings.LANGUAGE_CODE  # of the messages and the error report
    args = (kind, received.name, source, actor.pk, language)
    try:
        with transaction.atomic(durable=True):
            audit.record(
                actor=actor,
                action="evidence.import_requested",
                obj=actor,
                changes={
                    "kind": kind,
                    "file": received.file_name,
                    "sha256": received.sha256,
                    "size": received.size,
                    "source": source,
                },
            )
            # The database backend stores the task with the request: it runs only if the
            # request is committed, and is never lost if it is.
            task = (
                import_uploaded_evidence.enqueue(*args)
                if stored_in_transaction(import_uploaded_evidence)
                else None
            )
    except BaseException:
        inbox.discard(received.name)
        raise
    if task is None:
        # An in-process backend (the tests') imports at once, in transactions of its own.
        task = import_uploaded_evidence.enqueue(*args)
    return str(task.id)


def request_verification(*, actor: Any, fund: Fund) -> VerificationRun:
    """Verify every application of the fund against the records now, in the background (for
    those who manage the fund); returns the run, whose page follows it."""
    # The run is created (and the actor's right to manage the fund checked) in a transaction of
    # its own; the task that verifies it is stored with the request's audit event.
    run = fund_verification.start_verification(actor=actor, fund=fund)
    with transaction.atomic(durable=True):
        enqueue_verification(run)
        audit.record(
            actor=actor, action="evidence.verification_requested", obj=run, fund_id=fund.pk
        )
    run.refresh_from_db()  # the in-process backend (the tests') has verified it already
    return run
