from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from entraide.core.crypto import EncryptedTextField


class Decision(models.Model):
    """A reviewer's decision on an application, with the amount granted and the reasons."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", pgettext_lazy("decision outcome", "Approved")
        REJECTED = "rejected", pgettext_lazy("decision outcome", "Rejected")

    application = models.OneToOneField(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="decision",
    )
    fund = models.ForeignKey(
        "funds.Fund", verbose_name=_("fund"), on_delete=models.PROTECT, related_name="decisions"
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3)
    reason = EncryptedTextField(_("reason given to the applicant"), blank=True)
    # A rejection's grounds: ids of the rule version's criteria the application fails.
    reasons = models.JSONField(_("criteria not met"), default=list, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"))
    # Four eyes: who proposed the approval that ``decided_by`` confirmed (none: one person).
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The rule version of the application's evaluation when it was decided (none: no rules).
    rule_version = models.ForeignKey(
        "rules.RuleSetVersion",
        verbose_name=_("rule version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="decisions",
    )

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="decision_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=~models.Q(outcome="rejected") | models.Q(amount=0),
                name="decision_rejection_has_no_amount",
            ),
        ]
        indexes = [models.Index(fields=["fund", "outcome"])]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.outcome}"


class SecondApproval(models.Model):
    """An approval waiting for a second person with the approver role (four eyes): it goes
    against the rules' result, changes the rules' amount, or is above the fund's threshold."""

    class Ground(models.TextChoices):
        OVERRIDE = "override", pgettext_lazy("second approval", "Approves against the rules")
        AMOUNT_CHANGED = (
            "amount_changed",
            pgettext_lazy("second approval", "Changes the rules' amount"),
        )
        ABOVE_THRESHOLD = (
            "above_threshold",
            pgettext_lazy("second approval", "Above the fund's threshold"),
        )

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("second approval", "Waiting")
        CONFIRMED = "confirmed", pgettext_lazy("second approval", "Confirmed")
        REFUSED = "refused", pgettext_lazy("second approval", "Refused")
        WITHDRAWN = "withdrawn", pgettext_lazy("second approval", "Withdrawn")

    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="second_approvals",
    )
    fund = models.ForeignKey(
        "funds.Fund",
        verbose_name=_("fund"),
        on_delete=models.PROTECT,
        related_name="second_approvals",
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    # What the rules said when it was proposed (none: no evaluation).
    rules_eligible = models.BooleanField(_("eligible under the rules"), null=True, blank=True)
    rules_amount = models.DecimalField(
        _("rules' amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    grounds = models.JSONField(_("why a second approval"), default=list)
    note = EncryptedTextField(_("note for the second approver"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    proposed_at = models.DateTimeField(_("proposed at"))
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answer = EncryptedTextField(_("answer"), blank=True)

    class Meta:
        verbose_name = _("second approval")
        verbose_name_plural = _("second approvals")
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=models.Q(status="pending"),
                name="second_approval_one_pending",
            ),
            models.CheckConstraint(
                condition=models.Q(answered_by__isnull=True)
                | ~models.Q(answered_by=models.F("proposed_by")),
                name="second_approval_by_another_person",
            ),
        ]
        indexes = [models.Index(fields=["fund", "status", "proposed_at"])]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.amount} ({self.status})"


class Assignment(models.Model):
    """The reviewer an application is given to."""

    application = models.OneToOneField(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="assignment",
    )
    fund = models.ForeignKey(
        "funds.Fund", verbose_name=_("fund"), on_delete=models.CASCADE, related_name="+"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        on_delete=models.PROTECT,
        related_name="assignments",
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assigned_at = models.DateTimeField(_("assigned at"))

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        indexes = [models.Index(fields=["fund", "reviewer"])]

    def __str__(self) -> str:
        return f"{self.application_id} → {self.reviewer_id}"


class ReviewLock(models.Model):
    """Who is deciding an application right now: nobody else may decide it until the lock is
    released or expires."""

    application = models.OneToOneField(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="review_lock",
    )
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("held by"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    locked_at = models.DateTimeField(_("locked at"))
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        verbose_name = _("review lock")
        verbose_name_plural = _("review locks")

    def __str__(self) -> str:
        return f"{self.application_id} ({self.holder_id})"


class Flag(models.Model):
    """Something about an application a reviewer must look at before deciding (raised by a
    reviewer, or by the integrity checks); open until resolved."""

    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="flags",
    )
    fund = models.ForeignKey(
        "funds.Fund", verbose_name=_("fund"), on_delete=models.CASCADE, related_name="+"
    )
    code = models.SlugField(_("code"), max_length=60)
    note = EncryptedTextField(_("note"), blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("raised by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    raised_at = models.DateTimeField(_("raised at"))
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = EncryptedTextField(_("resolution"), blank=True)

    class Meta:
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        indexes = [models.Index(fields=["fund", "resolved_at"])]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.code}"


class MessageTemplate(models.Model):
    """A fund's own wording of a message to applicants, in one language (without one, the
    platform's default text is sent)."""

    class Kind(models.TextChoices):
        APPROVED = "approved", pgettext_lazy("message template", "Approval")
        REJECTED = "rejected", pgettext_lazy("message template", "Rejection")
        INFO_REQUESTED = (
            "info_requested",
            pgettext_lazy("message template", "Request for information"),
        )
        WAITLISTED = "waitlisted", pgettext_lazy("message template", "Waiting list")

    fund = models.ForeignKey(
        "funds.Fund",
        verbose_name=_("fund"),
        on_delete=models.CASCADE,
        related_name="message_templates",
    )
    kind = models.CharField(_("message"), max_length=20, choices=Kind.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        constraints = [
            models.UniqueConstraint(
                fields=["fund", "kind", "language"], name="message_template_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.fund_id} {self.kind} {self.language}"


class BulkApproval(models.Model):
    """The approval of a whole auto-eligible queue, run in the background: the applications
    the operator saw in the summary, and what became of them."""

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("bulk approval", "Queued")
        RUNNING = "running", pgettext_lazy("bulk approval", "Running")
        DONE = "done", pgettext_lazy("bulk approval", "Done")
        FAILED = "failed", pgettext_lazy("bulk approval", "Failed")

    fund = models.ForeignKey(
        "funds.Fund", verbose_name=_("fund"), on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"))
    application_ids = models.JSONField(_("applications"), default=list)
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.QUEUED
    )
    task_id = models.CharField(_("task"), max_length=64, blank=True)
    handled = models.PositiveIntegerField(_("handled"), default=0)
    approved = models.PositiveIntegerField(_("approved"), default=0)
    waitlisted = models.PositiveIntegerField(_("waiting for budget"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("bulk approval")
        verbose_name_plural = _("bulk approvals")

    def __str__(self) -> str:
        return f"{self.fund_id}: {len(self.application_ids)} ({self.status})"

    @property
    def count(self) -> int:
        return len(self.application_ids)
