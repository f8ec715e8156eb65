from django.contrib import admin
from django.urls import include, path

from entraide.applications import views as portal
from entraide.core.health import healthz
from entraide.evidence import views as evidence
from entraide.funds import views as funds
from entraide.intake import views as intake
from entraide.intake.api import api as intake_api
from entraide.integrity import views as integrity
from entraide.payments import bank_views as payments_bank
from entraide.payments import portal_views as payments_portal
from entraide.payments import views as payments
from entraide.programmes import views as programmes
from entraide.reporting import views as reporting
from entraide.review import budget_views as review_budget
from entraide.review import bulk_approval_views as review_bulk_approval
from entraide.review import bulk_views as review_bulk
from entraide.review import decision_views as review_decisions
from entraide.review import desk_views as review_desk
from entraide.review import template_views as review_messages
from entraide.review import views as review
from entraide.rules import views as rules

urlpatterns = [
    path("", portal.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("funds/<slug:slug>/", funds.public_page, name="fund_page"),
    path("funds/<slug:slug>/check/", funds.self_check, name="fund_self_check"),
    path("funds/<slug:slug>/apply/", portal.apply, name="apply"),
    path("funds/<slug:slug>/apply/<str:step>/", portal.apply_step, name="apply_step"),
    path("documents/<int:document_id>/", portal.document_download, name="document_download"),
    path("me/applications/", portal.my_applications, name="my_applications"),
    path("me/applications/<str:reference>/", portal.application_status, name="application_status"),
    path(
        "me/applications/<str:reference>/attestation.pdf",
        reporting.application_attestation,
        name="application_attestation",
    ),
    path("attestations/verify/", reporting.attestation_verify, name="attestation_verify"),
    path("staff/", funds.staff_home, name="staff_home"),
    path("staff/funds/new/", funds.fund_create, name="fund_create"),
    path("staff/programmes/", programmes.programme_list, name="programme_list"),
    path("staff/programmes/<slug:slug>/", programmes.programme_rollup, name="programme_rollup"),
    path(
        "staff/programmes/<slug:slug>/allocations/",
        programmes.programme_allocate,
        name="programme_allocate",
    ),
    path(
        "staff/programmes/<slug:slug>/roles/",
        programmes.programme_role_grant,
        name="programme_role_grant",
    ),
    path("staff/exchange-rates/", programmes.exchange_rates, name="exchange_rates"),
    path(
        "staff/exchange-rates/imports/",
        programmes.exchange_rates_import,
        name="exchange_rates_import",
    ),
    path(
        "staff/exchange-rates/by-hand/",
        programmes.exchange_rate_record,
        name="exchange_rate_record",
    ),
    path("staff/evidence/", evidence.batch_list, name="evidence_batches"),
    path("staff/evidence/imports/new/", evidence.import_new, name="evidence_import_new"),
    path(
        "staff/evidence/imports/<str:task_id>/",
        evidence.import_status,
        name="evidence_import_status",
    ),
    path("staff/evidence/batches/<int:batch_id>/", evidence.batch_detail, name="evidence_batch"),
    path(
        "staff/evidence/batches/<int:batch_id>/errors/",
        evidence.batch_errors,
        name="evidence_batch_errors",
    ),
    path(
        "staff/evidence/batches/<int:batch_id>/rollback/",
        evidence.batch_rollback,
        name="evidence_batch_rollback",
    ),
    path(
        "staff/funds/<slug:slug>/public-page/",
        funds.public_page_edit,
        name="fund_public_page_edit",
    ),
    path("staff/funds/<slug:slug>/", review.fund_dashboard, name="fund_dashboard"),
    path("staff/funds/<slug:slug>/applications/", review.application_list, name="application_list"),
    path(
        "staff/funds/<slug:slug>/applications/bulk-assign/",
        review_bulk.bulk_assign,
        name="application_bulk_assign",
    ),
    path(
        "staff/funds/<slug:slug>/applications/share-out/",
        review_bulk.queue_round_robin,
        name="application_queue_round_robin",
    ),
    path(
        "staff/funds/<slug:slug>/applications/<str:reference>/",
        review.application_detail,
        name="staff_application",
    ),
    path(
        "staff/funds/<slug:slug>/applications/<str:reference>/attestation.pdf",
        reporting.staff_application_attestation,
        name="staff_application_attestation",
    ),
    path(
        "staff/funds/<slug:slug>/applications/<str:reference>/second-approvals/<int:proposal_id>/",
        review_decisions.second_approval_answer,
        name="second_approval_answer",
    ),
    path(
        "staff/funds/<slug:slug>/attestation-settings/",
        reporting.attestation_settings,
        name="attestation_settings",
    ),
    path("staff/funds/<slug:slug>/budget/", review_budget.fund_budget, name="fund_budget"),
    path("staff/funds/<slug:slug>/budget/rules/", review_budget.budget_rules, name="budget_rules"),
    path(
        "staff/funds/<slug:slug>/bulk-approval/",
        review_bulk_approval.bulk_approval,
        name="bulk_approval",
    ),
    path(
        "staff/funds/<slug:slug>/bulk-approval/<int:bulk_id>/",
        review_bulk_approval.bulk_approval_status,
        name="bulk_approval_status",
    ),
    path(
        "staff/funds/<slug:slug>/budget/waitlist/",
        review_budget.fund_waitlist,
        name="fund_waitlist",
    ),
    path("staff/funds/<slug:slug>/payments/", payments.payments_overview, name="payments_overview"),
    path(
        "staff/funds/<slug:slug>/payments/settings/",
        payments.payment_settings,
        name="payment_settings",
    ),
    path(
        "staff/funds/<slug:slug>/payments/batches/<str:reference>/",
        payments.payment_batch,
        name="payment_batch",
    ),
    path(
        "staff/funds/<slug:slug>/payments/batches/<str:reference>/release/",
        payments.payment_batch_release,
        name="payment_batch_release",
    ),
    path(
        "staff/funds/<slug:slug>/payments/batches/<str:reference>/generate/",
        payments.payment_batch_generate,
        name="payment_batch_generate",
    ),
    path(
        "staff/funds/<slug:slug>/payments/batches/<str:reference>/sent/",
        payments.payment_batch_sent,
        name="payment_batch_sent",
    ),
    path(
        "staff/funds/<slug:slug>/payments/batches/<str:reference>/cancel/",
        payments.payment_batch_cancel,
        name="payment_batch_cancel",
    ),
    path(
        "staff/funds/<slug:slug>/payments/batches/<str:reference>/file/",
        payments.payment_batch_file,
        name="payment_batch_file",
    ),
    path("staff/funds/<slug:slug>/payments/returns/", payments.bank_returns, name="bank_returns"),
    path(
        "staff/funds/<slug:slug>/payments/returns/<int:return_id>/",
        payments.bank_return,
        name="bank_return",
    ),
    path(
        "staff/funds/<slug:slug>/payments/reconciliation/",
        payments.payments_reconciliation,
        name="payments_reconciliation",
    ),
    path(
        "staff/funds/<slug:slug>/payments/failed/<int:payment_id>/release/",
        payments.failed_payment_release,
        name="failed_payment_release",
    ),
    path("staff/funds/<slug:slug>/integrity/", integrity.integrity_queue, name="integrity_queue"),
    path(
        "staff/funds/<slug:slug>/integrity/checks/",
        integrity.integrity_check_request,
        name="integrity_check_request",
    ),
    path(
        "staff/funds/<slug:slug>/integrity/checks/<int:run_id>/",
        integrity.integrity_run,
        name="integrity_run",
    ),
    path(
        "staff/funds/<slug:slug>/integrity/links/<int:link_id>/",
        integrity.integrity_link,
        name="integrity_link",
    ),
    path(
        "staff/funds/<slug:slug>/integrity/settings/",
        integrity.integrity_settings,
        name="integrity_settings",
    ),
    path(
        "staff/funds/<slug:slug>/integrity/report/",
        integrity.integrity_report,
        name="integrity_report",
    ),
    path(
        "staff/funds/<slug:slug>/applications/<str:reference>/evaluate/",
        review.evaluate_again,
        name="staff_application_evaluate",
    ),
    path(
        "staff/funds/<slug:slug>/applications/<str:reference>/messages/",
        review.write_to_applicant,
        name="staff_application_message",
    ),
    path(
        "staff/funds/<slug:slug>/applications/<str:reference>/assign/",
        review_desk.assign,
        name="staff_application_assign",
    ),
    path(
        "staff/funds/<slug:slug>/applications/<str:reference>/unassign/",
        review_desk.unassign,
        name="staff_application_unassign",
    ),
    path(
        "staff/funds/<slug:slug>/applications/<str:reference>/claim/",
        review_desk.claim,
        name="staff_application_claim",
    ),
    path(
        "staff/funds/<slug:slug>/applications/<str:reference>/release/",
        review_desk.release,
        name="staff_application_release",
    ),
    path(
        "staff/funds/<slug:slug>/applications/<str:reference>/flags/",
        review_desk.raise_flag,
        name="staff_application_flag",
    ),
    path(
        "staff/funds/<slug:slug>/applications/<str:reference>/flags/<int:flag_id>/resolve/",
        review_desk.resolve_flag,
        name="staff_application_flag_resolve",
    ),
    path(
        "staff/funds/<slug:slug>/applications/<str:reference>/records/",
        evidence.person_records,
        name="staff_application_records",
    ),
    path(
        "staff/funds/<slug:slug>/verification/",
        evidence.fund_verification,
        name="fund_verification",
    ),
    path(
        "staff/funds/<slug:slug>/verification/<int:run_id>/",
        evidence.fund_verification_run,
        name="fund_verification_run",
    ),
    path(
        "staff/funds/<slug:slug>/messages/",
        review_messages.message_templates,
        name="message_templates",
    ),
    path(
        "staff/funds/<slug:slug>/messages/<str:kind>/<str:language>/",
        review_messages.message_template_edit,
        name="message_template_edit",
    ),
    path(
        "staff/funds/<slug:slug>/messages/<str:kind>/<str:language>/reset/",
        review_messages.message_template_reset,
        name="message_template_reset",
    ),
    path("staff/funds/<slug:slug>/rules/", rules.rule_versions, name="rule_versions"),
    path("staff/funds/<slug:slug>/rules/new/", rules.rule_draft_new, name="rule_draft_new"),
    path("staff/funds/<slug:slug>/rules/<int:number>/", rules.rule_version, name="rule_version"),
    path(
        "staff/funds/<slug:slug>/rules/<int:number>/edit/",
        rules.rule_draft_edit,
        name="rule_draft_edit",
    ),
    path(
        "staff/funds/<slug:slug>/rules/<int:number>/preview/",
        rules.rule_version_preview,
        name="rule_version_preview",
    ),
    path(
        "staff/funds/<slug:slug>/rules/<int:number>/publish/",
        rules.rule_version_publish,
        name="rule_version_publish",
    ),
    path(
        "staff/funds/<slug:slug>/rules/<int:number>/reevaluate/",
        rules.rule_version_reevaluate,
        name="rule_version_reevaluate",
    ),
    path(
        "staff/funds/<slug:slug>/rules/reevaluations/<str:task_id>/",
        rules.rule_reevaluation_status,
        name="rule_reevaluation_status",
    ),
    path("staff/funds/<slug:slug>/partners/", intake.partner_list, name="intake_partners"),
    path(
        "staff/funds/<slug:slug>/partners/tokens/new/",
        intake.token_new,
        name="intake_token_new",
    ),
    path(
        "staff/funds/<slug:slug>/partners/tokens/<int:token_id>/revoke/",
        intake.token_revoke,
        name="intake_token_revoke",
    ),
    path(
        "staff/funds/<slug:slug>/partners/<slug:partner>/secret/",
        intake.partner_secret,
        name="intake_partner_secret",
    ),
    path(
        "me/applications/<str:reference>/bank-details/",
        payments_portal.bank_details,
        name="application_bank_details",
    ),
    path(
        "staff/funds/<slug:slug>/payments/bank-details/",
        payments_bank.bank_details_changes,
        name="bank_details_changes",
    ),
    path(
        "staff/funds/<slug:slug>/payments/bank-details/<int:change_id>/",
        payments_bank.bank_details_change,
        name="bank_details_change",
    ),
    path(
        "staff/funds/<slug:slug>/payments/bank-details/<int:change_id>/verify/",
        payments_bank.bank_details_verify,
        name="bank_details_verify",
    ),
    path(
        "staff/funds/<slug:slug>/payments/bank-details/<int:change_id>/refuse/",
        payments_bank.bank_details_refuse,
        name="bank_details_refuse",
    ),
    path(
        "staff/funds/<slug:slug>/payments/bank-details/<int:change_id>/enter/",
        payments_bank.bank_details_enter,
        name="bank_details_enter",
    ),
    # Crew relief (rosters, runs) and reporting (dashboards, exports) keep their own routes.
    path("", include("entraide.crew.urls")),
    path("", include("entraide.reporting.urls")),
    path("", include("entraide.privacy.urls")),
    path("api/", intake_api.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
