"""What each audit action means, in words people read (the action ids stay in English)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

ACTION_LABELS: dict[str, Promise] = {
    "account.created": pgettext_lazy("audit action", "Account created"),
    "api_token.issued": pgettext_lazy("audit action", "Personal API token issued"),
    "api_token.revoked": pgettext_lazy("audit action", "Personal API token revoked"),
    "programme.created": pgettext_lazy("audit action", "Programme created"),
    "programme.allocated": pgettext_lazy("audit action", "Programme allocation made"),
    "rates.imported": pgettext_lazy("audit action", "Exchange rates imported"),
    "crew.roster_imported": pgettext_lazy("audit action", "Roster imported"),
    "crew.settings_changed": pgettext_lazy("audit action", "Crew relief settings changed"),
    "crew.run_proposed": pgettext_lazy("audit action", "Crew relief run proposed"),
    "crew.payout_excluded": pgettext_lazy("audit action", "Crew relief payout left out"),
    "crew.payout_included": pgettext_lazy("audit action", "Crew relief payout put back"),
    "crew.run_approved": pgettext_lazy("audit action", "Crew relief run approved"),
    "crew.run_rejected": pgettext_lazy("audit action", "Crew relief run rejected"),
    "crew.run_awarded": pgettext_lazy("audit action", "Crew relief run granted"),
    "application.crew_grant_recorded": pgettext_lazy("audit action", "Crew relief grant recorded"),
    "rate.recorded": pgettext_lazy("audit action", "Exchange rate recorded by hand"),
    "programme_role.granted": pgettext_lazy("audit action", "Programme role granted"),
    "fund.created": pgettext_lazy("audit action", "Fund created"),
    "fund.export_requested": pgettext_lazy("audit action", "Export requested"),
    "fund.export_downloaded": pgettext_lazy("audit action", "Export downloaded"),
    "fund.public_statistics_changed": pgettext_lazy(
        "audit action", "Public statistics published or withdrawn"
    ),
    "programme.report_downloaded": pgettext_lazy("audit action", "Donor report downloaded"),
    "fund.public_page_updated": pgettext_lazy("audit action", "Public page updated"),
    "message_template.saved": pgettext_lazy("audit action", "Message to applicants reworded"),
    "message_template.reset": pgettext_lazy(
        "audit action", "Message to applicants back to the platform's wording"
    ),
    "fund_role.granted": pgettext_lazy("audit action", "Role granted"),
    "application.submitted": pgettext_lazy("audit action", "Application submitted"),
    "application.status_changed": pgettext_lazy("audit action", "Status changed"),
    "application.message_sent": pgettext_lazy("audit action", "Message sent to the applicant"),
    "application.reply_received": pgettext_lazy("audit action", "Reply from the applicant"),
    "application.bank_details_replaced": pgettext_lazy("audit action", "Bank details replaced"),
    "bank_details.requested": pgettext_lazy(
        "audit action", "New bank details asked of the applicant"
    ),
    "bank_details.submitted": pgettext_lazy(
        "audit action", "New bank details given, waiting for verification"
    ),
    "bank_details.entered": pgettext_lazy(
        "audit action", "New bank details entered by finance, waiting for verification"
    ),
    "bank_details.viewed": pgettext_lazy(
        "audit action", "New bank details shown in full for verification"
    ),
    "bank_details.verified": pgettext_lazy("audit action", "New bank details verified"),
    "bank_details.refused": pgettext_lazy("audit action", "New bank details refused"),
    "bank_details.closed": pgettext_lazy(
        "audit action", "Change of bank details closed (the award was released)"
    ),
    "assignment.assigned": pgettext_lazy("audit action", "Applications assigned to a reviewer"),
    "assignment.spread": pgettext_lazy("audit action", "Applications spread over the reviewers"),
    "assignment.removed": pgettext_lazy("audit action", "Applications unassigned"),
    "review_lock.claimed": pgettext_lazy("audit action", "Review started"),
    "review_lock.released": pgettext_lazy("audit action", "Review stopped"),
    "review_lock.broken": pgettext_lazy("audit action", "Someone else's review lock lifted"),
    "flag.raised": pgettext_lazy("audit action", "Flagged for attention"),
    "flag.resolved": pgettext_lazy("audit action", "Flag resolved"),
    "flag.raised_by_check": pgettext_lazy("audit action", "Flags raised by the integrity checks"),
    "integrity.settings_changed": pgettext_lazy("audit action", "Integrity settings changed"),
    "integrity.check_requested": pgettext_lazy("audit action", "Full duplicate check requested"),
    "integrity.check_finished": pgettext_lazy("audit action", "Full duplicate check finished"),
    "integrity.check_failed": pgettext_lazy("audit action", "Full duplicate check failed"),
    "integrity.link_confirmed": pgettext_lazy(
        "audit action", "Two applications confirmed as the same person"
    ),
    "integrity.link_dismissed": pgettext_lazy(
        "audit action", "Two applications judged to be different people"
    ),
    "document.scanned": pgettext_lazy("audit action", "Document scanned for viruses"),
    "partner.created": pgettext_lazy("audit action", "API partner added"),
    "partner.webhook_secret_shown": pgettext_lazy("audit action", "Webhook secret shown"),
    "partner_token.issued": pgettext_lazy("audit action", "API token issued"),
    "partner_token.revoked": pgettext_lazy("audit action", "API token revoked"),
    "decision.recorded": pgettext_lazy("audit action", "Decision recorded"),
    "approval.proposed": pgettext_lazy("audit action", "Approval proposed for a second approver"),
    "approval.confirmed": pgettext_lazy("audit action", "Approval confirmed by a second approver"),
    "approval.refused": pgettext_lazy("audit action", "Approval refused by a second approver"),
    "approval.withdrawn": pgettext_lazy("audit action", "Proposed approval withdrawn"),
    "budget.credited": pgettext_lazy("audit action", "Budget credited"),
    "fund.budget_rules_updated": pgettext_lazy("audit action", "Budget rules changed"),
    "review.bulk_approval_requested": pgettext_lazy(
        "audit action", "Approval of the eligible queue requested"
    ),
    "review.bulk_approved": pgettext_lazy("audit action", "Eligible queue approved"),
    "budget.waitlist_funded": pgettext_lazy("audit action", "Waiting list funded"),
    "award.reserved": pgettext_lazy("audit action", "Award reserved in the budget"),
    "award.waitlisted": pgettext_lazy("audit action", "Award waiting for budget"),
    "award.released": pgettext_lazy("audit action", "Award released"),
    "awards.paid": pgettext_lazy("audit action", "Awards paid (payment batch sent)"),
    "payment_settings.saved": pgettext_lazy("audit action", "Payment settings saved"),
    "payment_batch.prepared": pgettext_lazy("audit action", "Payment batch prepared"),
    "payment_batch.released": pgettext_lazy("audit action", "Payment batch released"),
    "payment_batch.sent": pgettext_lazy("audit action", "Payment batch sent to the bank"),
    "payment_batch.cancelled": pgettext_lazy("audit action", "Payment batch cancelled"),
    "payment_file.generated": pgettext_lazy("audit action", "Payment file generated"),
    "payment_file.requested": pgettext_lazy("audit action", "Payment file asked for again"),
    "payment_file.downloaded": pgettext_lazy("audit action", "Payment file downloaded"),
    "bank_return.imported": pgettext_lazy("audit action", "Bank return imported"),
    "payment.failed": pgettext_lazy("audit action", "Transfer failed"),
    "applications.paid": pgettext_lazy("audit action", "Applications paid (payment batch sent)"),
    "award.returned": pgettext_lazy("audit action", "Payment returned by the bank"),
    "attestation.issued": pgettext_lazy("audit action", "Attestation of a grant issued"),
    "attestation.downloaded": pgettext_lazy(
        "audit action", "Attestation of a grant downloaded by staff"
    ),
    "attestation.settings_changed": pgettext_lazy(
        "audit action", "Wording of attestations changed"
    ),
    "evidence.batch_loaded": pgettext_lazy("audit action", "Evidence loaded"),
    "evidence.import_requested": pgettext_lazy("audit action", "Evidence file import requested"),
    "evidence.batch_imported": pgettext_lazy("audit action", "Evidence file imported"),
    "evidence.batch_failed": pgettext_lazy("audit action", "Evidence import failed"),
    "evidence.batch_rolled_back": pgettext_lazy("audit action", "Evidence import rolled back"),
    "evidence.verification_requested": pgettext_lazy(
        "audit action", "Verification against the records requested"
    ),
    "evidence.fund_verified": pgettext_lazy(
        "audit action", "Applications verified against the records"
    ),
    "evidence.person_records_viewed": pgettext_lazy(
        "audit action", "Records about the applicant viewed"
    ),
    "rule_version.draft_created": pgettext_lazy("audit action", "Rules draft created"),
    "rule_version.draft_saved": pgettext_lazy("audit action", "Rules draft saved"),
    "rule_version.published": pgettext_lazy("audit action", "Rules version published"),
    "application.evaluated": pgettext_lazy("audit action", "Application evaluated"),
    "rule_set.reevaluation_requested": pgettext_lazy(
        "audit action", "Re-evaluation of pending applications requested"
    ),
    "rule_set.pending_reevaluated": pgettext_lazy(
        "audit action", "Pending applications re-evaluated"
    ),
    "privacy.retention_policy_changed": pgettext_lazy(
        "audit action", "Retention of personal data changed"
    ),
    "privacy.erasure_requested": pgettext_lazy(
        "audit action", "Erasure of personal data asked for"
    ),
    "privacy.erased": pgettext_lazy("audit action", "Personal data erased"),
    "privacy.hold_ended": pgettext_lazy(
        "audit action", "Personal data kept for accounting erased (hold ended)"
    ),
    "privacy.drafts_deleted": pgettext_lazy(
        "audit action", "Applications never sent deleted (fund closed)"
    ),
    "privacy.data_download": pgettext_lazy("audit action", "Applicant's data downloaded"),
    "privacy.register_downloaded": pgettext_lazy(
        "audit action", "Register of processing activities downloaded"
    ),
}


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action
