from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from entraide.core.crypto import INDEX_LENGTH


class EvidenceBatch(models.Model):
    """One delivery of records (a file, an API call): its source and who loaded it."""

    class Kind(models.TextChoices):
        DECLARATIONS = "declarations", pgettext_lazy("evidence kind", "Employer declarations")
        RIGHTS = "rights", pgettext_lazy("evidence kind", "Unemployment rights")
        BENEFITS = "benefits", pgettext_lazy("evidence kind", "Benefits paid")
        CANCELLATIONS = "cancellations", pgettext_lazy("evidence kind", "Cancellations")

    class Status(models.TextChoices):
        RUNNING = "running", pgettext_lazy("evidence batch status", "Running")
        DONE = "done", pgettext_lazy("evidence batch status", "Done")
        FAILED = "failed", pgettext_lazy("evidence batch status", "Failed")
        ROLLED_BACK = "rolled_back", pgettext_lazy("evidence batch status", "Rolled back")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    source = models.CharField(_("source"), max_length=200)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DONE
    )
    # A file import (``evidence.imports``); rows loaded by ``load_evidence_batch`` have no file.
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, blank=True)
    period_start = models.DateField(_("earliest date seen"), null=True, blank=True)
    period_end = models.DateField(_("latest date seen"), null=True, blank=True)
    rows_read = models.PositiveBigIntegerField(_("rows read"), default=0)
    rows = models.PositiveIntegerField(_("rows imported"), default=0)
    rows_rejected = models.PositiveBigIntegerField(_("rows rejected"), default=0)
    rows_duplicate = models.PositiveBigIntegerField(_("duplicate rows"), default=0)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    error_report = models.CharField(_("error report"), max_length=500, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("loaded by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    loaded_at = models.DateTimeField(_("loaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("evidence batch")
        verbose_name_plural = _("evidence batches")
        constraints = [
            # The same file is imported once per kind; a failed or rolled-back import may be
            # run again.
            models.UniqueConstraint(
                fields=["kind", "sha256"],
                condition=~models.Q(sha256="") & models.Q(status__in=["running", "done"]),
                name="evidence_batch_file_imported_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.source}"


# Records are written in bulk (millions of rows in one transaction) and read by person, so
# each table has one index, on ``nir_index`` (a plain B-tree: no ``LIKE`` index beside it). Their
# ``batch`` has no foreign-key constraint in the database, where PostgreSQL would check each
# row against the batch table at commit (a deferred trigger per row, about as slow as the
# insert itself), and no index (a rollback deletes a whole batch, rarely: a scan will do).
# Rows are only written by ``evidence.imports`` and ``evidence.services`` for the batch they
# just created, and batches are never deleted (a rolled-back batch keeps its row).


class EmployerDeclaration(models.Model):
    """One contract (or contract-month) declared by an employer (FORMATS.md: declarations)."""

    batch = models.ForeignKey(
        EvidenceBatch,
        on_delete=models.CASCADE,
        related_name="declarations",
        db_constraint=False,
        db_index=False,
    )
    # The blind index of the person's NIR (entraide.core.crypto): evidence never keeps the NIR.
    nir_index = models.CharField(_("person (blind index)"), max_length=INDEX_LENGTH)
    siret = models.CharField(_("SIRET"), max_length=14)
    naf = models.CharField(_("NAF code"), max_length=6)
    idcc = models.CharField(_("collective agreement"), max_length=4)
    contract_type = models.CharField(_("contract type"), max_length=4)
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))
    hours = models.DecimalField(_("hours"), max_digits=7, decimal_places=2, null=True, blank=True)
    cachets = models.PositiveIntegerField(_("cachets"), null=True, blank=True)
    gross_pay = models.DecimalField(_("gross pay"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("employer declaration")
        verbose_name_plural = _("employer declarations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")), name="declaration_dates_ordered"
            )
        ]
        indexes = [models.Index(fields=["nir_index"], name="evidence_declaration_nir")]

    def __str__(self) -> str:
        return f"{self.siret} {self.start}–{self.end}"


class RightsRecord(models.Model):
    """Unemployment rights of a person (FORMATS.md: rights)."""

    batch = models.ForeignKey(
        EvidenceBatch,
        on_delete=models.CASCADE,
        related_name="rights",
        db_constraint=False,
        db_index=False,
    )
    # The blind index of the person's NIR (entraide.core.crypto): evidence never keeps the NIR.
    nir_index = models.CharField(_("person (blind index)"), max_length=INDEX_LENGTH)
    annex = models.CharField(_("annex"), max_length=8)
    opened_on = models.DateField(_("opened on"))
    ends_on = models.DateField(_("ends on"))
    status = models.CharField(_("status"), max_length=10)
    reason = models.CharField(_("reason"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("rights record")
        verbose_name_plural = _("rights records")
        indexes = [models.Index(fields=["nir_index"], name="evidence_rights_nir")]

    def __str__(self) -> str:
        return f"annex {self.annex} {self.opened_on}"


class BenefitRecord(models.Model):
    """An unemployment benefit paid to a person over a period (FORMATS.md: benefits).

    The file's ``from`` and ``to`` columns are ``start`` and ``end`` here; no ``end``: still paid.
    """

    batch = models.ForeignKey(
        EvidenceBatch,
        on_delete=models.CASCADE,
        related_name="benefits",
        db_constraint=False,
        db_index=False,
    )
    # The blind index of the person's NIR (entraide.core.crypto): evidence never keeps the NIR.
    nir_index = models.CharField(_("person (blind index)"), max_length=INDEX_LENGTH)
    scheme = models.CharField(_("scheme"), max_length=10)
    start = models.DateField(_("paid from"))
    end = models.DateField(_("paid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("benefit record")
        verbose_name_plural = _("benefit records")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__isnull=True) | models.Q(end__gte=models.F("start")),
                name="benefit_dates_ordered",
            )
        ]
        indexes = [models.Index(fields=["nir_index"], name="evidence_benefit_nir")]

    def __str__(self) -> str:
        return f"{self.scheme} {self.start}–{self.end or ''}"


class CancellationRecord(models.Model):
    """A performance or shooting day cancelled by an employer (FORMATS.md: cancellations)."""

    batch = models.ForeignKey(
        EvidenceBatch,
        on_delete=models.CASCADE,
        related_name="cancellations",
        db_constraint=False,
        db_index=False,
    )
    # The blind index of the person's NIR (entraide.core.crypto): evidence never keeps the NIR.
    nir_index = models.CharField(_("person (blind index)"), max_length=INDEX_LENGTH)
    siret = models.CharField(_("SIRET"), max_length=14)
    date = models.DateField(_("cancelled date"))
    cachets = models.PositiveIntegerField(_("cachets"), default=1)
    signed_on = models.DateField(_("contract signed on"), null=True, blank=True)

    class Meta:
        verbose_name = _("cancellation record")
        verbose_name_plural = _("cancellation records")
        indexes = [models.Index(fields=["nir_index"], name="evidence_cancellation_nir")]

    def __str__(self) -> str:
        return f"{self.siret} {self.date}"


class VerificationRun(models.Model):
    """One batch verification of a fund's applications against the records (when new evidence
    arrives, or on request): what it found, and how many outcomes it changed."""

    class Status(models.TextChoices):
        RUNNING = "running", pgettext_lazy("verification status", "Running")
        DONE = "done", pgettext_lazy("verification status", "Done")
        FAILED = "failed", pgettext_lazy("verification status", "Failed")

    fund = models.ForeignKey(
        "funds.Fund", verbose_name=_("fund"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    # The import that triggered it; none when staff asked for it.
    evidence_batch = models.ForeignKey(
        EvidenceBatch,
        verbose_name=_("evidence batch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="verifications",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The background task doing the work: the run's page shows its progress.
    task_id = models.CharField(_("task"), max_length=64, blank=True)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    applications = models.PositiveIntegerField(_("applications verified"), default=0)
    unreadable = models.PositiveIntegerField(_("applications the rules cannot read"), default=0)
    eligible = models.PositiveIntegerField(_("eligible on the records"), default=0)
    mismatched = models.PositiveIntegerField(_("declaration and records disagree"), default=0)
    changed = models.PositiveIntegerField(_("outcomes changed"), default=0)
    outdated = models.PositiveIntegerField(_("pending evaluations to update"), default=0)
    decided_changed = models.PositiveIntegerField(
        _("decided applications whose records changed"), default=0
    )

    class Meta:
        verbose_name = _("verification run")
        verbose_name_plural = _("verification runs")
        indexes = [models.Index(fields=["fund", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.fund_id} {self.started_at:%Y-%m-%d %H:%M}"


class ApplicationVerification(models.Model):
    """What the latest verification run found for one application: its outcome on the records
    (under the rule version in force on the day it was submitted), the asked aggregates whose
    answer the records contradict, and whether the outcome changed since the run before."""

    application = models.OneToOneField(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="verification",
    )
    # A run writes a row per application in one COPY: the run and the version it names exist
    # (the run wrote them), and checking each row against them at commit would cost seconds.
    run = models.ForeignKey(
        VerificationRun,
        verbose_name=_("run"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    version = models.ForeignKey(
        "rules.RuleSetVersion",
        verbose_name=_("rule version"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    evaluated_on = models.DateField(_("evaluation date"))
    eligible = models.BooleanField(_("eligible on the records"))
    amount = models.DecimalField(_("amount on the records"), max_digits=14, decimal_places=2)
    mismatched = models.JSONField(_("answers the records contradict"), default=list, blank=True)
    has_mismatch = models.BooleanField(_("declaration and records disagree"), default=False)
    changed = models.BooleanField(_("outcome changed"), default=False)

    class Meta:
        verbose_name = _("application verification")
        verbose_name_plural = _("application verifications")
        indexes = [models.Index(fields=["run", "has_mismatch"])]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.eligible}"
