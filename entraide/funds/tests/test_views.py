"""Who gets what on every page (one table); the back office's list of funds; creating a fund."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from entraide.accounts.models import User
from entraide.accounts.services import fund_operators_group
from entraide.accounts.tests.factories import UserFactory
from entraide.applications import documents as document_store
from entraide.applications.models import Application, ApplicationDocument
from entraide.applications.tests.factories import ApplicationFactory
from entraide.core.crypto import encrypt_bytes
from entraide.core.tests.site_urls import site_patterns
from entraide.core.tests.worker import DATABASE_TASKS, run_db_worker
from entraide.crew import relief
from entraide.crew.models import ReliefRun, RosterImport
from entraide.crew.tests.factories import (
    CrewMemberFactory,
    ProductionFactory,
    RosterImportFactory,
)
from entraide.evidence.models import EvidenceBatch, VerificationRun
from entraide.evidence.tasks import import_uploaded_evidence
from entraide.evidence.tests.factories import EvidenceBatchFactory, VerificationRunFactory
from entraide.funds import ledger
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.intake.models import PartnerToken
from entraide.intake.tests.factories import issued_token
from entraide.integrity.models import Link, LinkageRun
from entraide.integrity.tests.factories import LinkageRunFactory, LinkFactory
from entraide.payments import services as payment_services
from entraide.payments.models import BankDetailsChange, BankReturn, PaymentBatch
from entraide.payments.services import Selection
from entraide.payments.tests.factories import (
    BankDetailsChangeFactory,
    BankReturnFactory,
    PaymentSettingsFactory,
)
from entraide.privacy.models import ErasureRequest
from entraide.privacy.tests.factories import ErasureRequestFactory
from entraide.programmes.models import Programme, ProgrammeRole
from entraide.programmes.tests.factories import ProgrammeFactory, ProgrammeRoleFactory
from entraide.reporting.tasks import export_applications
from entraide.review.models import BulkApproval, Flag, SecondApproval
from entraide.review.tests.factories import FlagFactory
from entraide.rules.models import RuleSetVersion
from entraide.rules.tasks import reevaluate_pending_applications
from entraide.rules.tests.factories import RuleSetVersionFactory

Role = FundRole.Role


def fund_operator() -> User:
    """Someone of the "Fund operators" group: may create funds, has no role on any fund yet."""
    user = UserFactory.create()
    user.groups.add(fund_operators_group())
    return user


# --------------------------------------------------------------------------------------------
# The permission matrix
# --------------------------------------------------------------------------------------------

ACTORS = (  # the columns of the table below
    "anonymous",  # ano
    "applicant",  # app: verified account, no application, no role
    "owner",  # own: made the application the URLs point at
    "other_applicant",  # oth: made another application to the same fund
    "operator_admin",  # adm
    "reviewer",  # rev
    "approver",  # apr
    "finance",  # fin
    "auditor",  # aud
    "reviewer_of_other_fund",  # rvB
    "fund_operator",  # opr: in the "Fund operators" group, no role on this fund
    "donor",  # don: the donor of the fund's programme, no role on the fund
    "programme_manager",  # mgr: a manager of the fund's programme, no role on the fund
)
STAFF_ROLES = ("operator_admin", "reviewer", "approver", "finance", "auditor")

# What each actor gets:
OK = 200  # the page
GO = "302"  # done, and sent on to the next page
IN = "302 to login"  # anonymous, sent to the login page first
NO = 403  # logged in, but no back-office access (or not the capability to act)
NF = 404  # staff of another fund, another applicant's application: as if it did not exist
NA = 405  # method not allowed

# fmt: off
MATRIX: list[tuple[str, str, tuple[int | str, ...]]] = [
    #                                 ano app own oth adm rev apr fin aud rvB opr don mgr
    ("get",    "home",               (OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK)),
    ("get",    "fund_page",          (OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK)),
    # The self-check needs no account; an empty post shows the form again with its errors.
    ("get",    "fund_self_check",    (OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK)),
    ("post",   "fund_self_check",    (OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK)),
    ("delete", "fund_self_check",    (NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # Applying: to the first step left to do, or the page of the application already made.
    ("get",    "apply",              (IN, GO, OK, OK, GO, GO, GO, GO, GO, GO, GO, GO, GO)),
    ("delete", "apply",              (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # A step without a draft yet: sent to start one.
    ("get",    "apply_step",         (IN, GO, OK, OK, GO, GO, GO, GO, GO, GO, GO, GO, GO)),
    ("post",   "apply_step",         (IN, GO, OK, OK, GO, GO, GO, GO, GO, GO, GO, GO, GO)),
    ("delete", "apply_step",         (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # A document: its owner and the fund's staff.
    ("get",    "document_download",  (IN, NF, OK, NF, OK, OK, OK, OK, OK, NF, NF, NF, NF)),
    ("post",   "document_download",  (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "my_applications",    (IN, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK)),
    ("get",    "application_status", (IN, NF, OK, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("get",    "staff_home",         (IN, NO, NO, NO, OK, OK, OK, OK, OK, OK, OK, OK, OK)),
    ("get",    "fund_create",        (IN, NO, NO, NO, NO, NO, NO, NO, NO, NO, OK, NO, NO)),
    ("delete", "fund_create",        (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # The public page's texts: the fund's operator admin only (an empty post: shown again).
    ("get",    "fund_public_page_edit",
                                     (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("post",   "fund_public_page_edit",
                                     (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("delete", "fund_public_page_edit",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "fund_dashboard",     (IN, NO, NO, NO, OK, OK, OK, OK, OK, NF, NF, NF, NF)),
    ("get",    "application_list",   (IN, NO, NO, NO, OK, OK, OK, OK, OK, NF, NF, NF, NF)),
    # Assigning the ticked applications: the operator admin to anyone, those who decide to
    # themselves (nothing ticked: sent back to the list with a message).
    ("post",   "application_bulk_assign",
                                     (IN, NO, NO, NO, GO, GO, GO, NO, NO, NF, NF, NF, NF)),
    ("get",    "application_bulk_assign",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # Sharing a whole list among the reviewers: the operator admin (unconfirmed: the summary).
    ("get",    "application_queue_round_robin",
                                     (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("post",   "application_queue_round_robin",
                                     (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("delete", "application_queue_round_robin",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "staff_application",  (IN, NO, NO, NO, OK, OK, OK, OK, OK, NF, NF, NF, NF)),
    # An empty decision form: shown again with its errors to those who may decide (rev, apr).
    ("post",   "staff_application",  (IN, NO, NO, NO, NO, OK, OK, NO, NO, NF, NF, NF, NF)),
    ("delete", "staff_application",  (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # Four eyes: those who decide answer a proposed approval (without a choice: sent back to
    # the application with a message); the service then checks who may confirm.
    ("post",   "second_approval_answer",
                                     (IN, NO, NO, NO, NF, GO, GO, NF, NF, NF, NF, NF, NF)),
    ("get",    "second_approval_answer",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # The budget: every role of the fund reads it; the operator admin credits it (an empty
    # form: shown again) and funds the waiting list.
    ("get",    "fund_budget",        (IN, NO, NO, NO, OK, OK, OK, OK, OK, NF, NF, NF, NF)),
    ("post",   "fund_budget",        (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("delete", "fund_budget",        (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("post",   "fund_waitlist",      (IN, NO, NO, NO, GO, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("post",   "budget_rules",       (IN, NO, NO, NO, GO, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("get",    "budget_rules",       (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # Approving the eligible queue at once: the approvers (an empty post: the summary again).
    ("get",    "bulk_approval",      (IN, NO, NO, NO, NF, NF, OK, NF, NF, NF, NF, NF, NF)),
    ("post",   "bulk_approval",      (IN, NO, NO, NO, NF, NF, OK, NF, NF, NF, NF, NF, NF)),
    ("delete", "bulk_approval",      (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "bulk_approval_status",
                                     (IN, NO, NO, NO, NF, NF, OK, NF, NF, NF, NF, NF, NF)),
    ("post",   "bulk_approval_status",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "fund_waitlist",      (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # Payments: finance, the operator admin and the auditor read them; finance acts (an empty
    # form: the page again with its errors; the world's batch is ready, so releasing it again is
    # refused, back on its page with the reason, and marking it sent goes through); the
    # operator admin sets up the fund's bank account (an empty post: the form again).
    ("get",    "payments_overview",  (IN, NO, NO, NO, OK, NF, NF, OK, OK, NF, NF, NF, NF)),
    ("post",   "payments_overview",  (IN, NO, NO, NO, NF, NF, NF, OK, NF, NF, NF, NF, NF)),
    ("delete", "payments_overview",  (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "payment_settings",   (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("post",   "payment_settings",   (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("delete", "payment_settings",   (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "payment_batch",      (IN, NO, NO, NO, OK, NF, NF, OK, OK, NF, NF, NF, NF)),
    ("post",   "payment_batch",      (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("post",   "payment_batch_release",
                                     (IN, NO, NO, NO, NF, NF, NF, GO, NF, NF, NF, NF, NF)),
    ("get",    "payment_batch_release",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("post",   "payment_batch_generate",
                                     (IN, NO, NO, NO, NF, NF, NF, GO, NF, NF, NF, NF, NF)),
    ("get",    "payment_batch_generate",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("post",   "payment_batch_sent", (IN, NO, NO, NO, NF, NF, NF, GO, NF, NF, NF, NF, NF)),
    ("get",    "payment_batch_sent", (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("post",   "payment_batch_cancel",
                                     (IN, NO, NO, NO, NF, NF, NF, OK, NF, NF, NF, NF, NF)),
    ("get",    "payment_batch_cancel",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # The file holds the beneficiaries' bank details: finance only.
    ("get",    "payment_batch_file", (IN, NO, NO, NO, NF, NF, NF, OK, NF, NF, NF, NF, NF)),
    ("post",   "payment_batch_file", (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "bank_returns",       (IN, NO, NO, NO, OK, NF, NF, OK, OK, NF, NF, NF, NF)),
    ("post",   "bank_returns",       (IN, NO, NO, NO, NF, NF, NF, OK, NF, NF, NF, NF, NF)),
    ("delete", "bank_returns",       (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "bank_return",        (IN, NO, NO, NO, OK, NF, NF, OK, OK, NF, NF, NF, NF)),
    ("post",   "bank_return",        (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "payments_reconciliation",
                                     (IN, NO, NO, NO, OK, NF, NF, OK, OK, NF, NF, NF, NF)),
    ("post",   "payments_reconciliation",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("post",   "failed_payment_release",
                                     (IN, NO, NO, NO, NF, NF, NF, OK, NF, NF, NF, NF, NF)),
    ("get",    "failed_payment_release",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # Possible duplicates: every role of the fund reads the pairs, the full checks and the
    # report; those who decide request a full check (sent to its page) and decide a pair (an
    # empty form: shown again with its errors); the operator admin sets the checks up (an
    # empty post: the form again).
    ("get",    "integrity_queue",    (IN, NO, NO, NO, OK, OK, OK, OK, OK, NF, NF, NF, NF)),
    ("post",   "integrity_queue",    (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("post",   "integrity_check_request",
                                     (IN, NO, NO, NO, NF, GO, GO, NF, NF, NF, NF, NF, NF)),
    ("get",    "integrity_check_request",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "integrity_run",      (IN, NO, NO, NO, OK, OK, OK, OK, OK, NF, NF, NF, NF)),
    ("post",   "integrity_run",      (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "integrity_link",     (IN, NO, NO, NO, OK, OK, OK, OK, OK, NF, NF, NF, NF)),
    ("post",   "integrity_link",     (IN, NO, NO, NO, NO, OK, OK, NO, NO, NF, NF, NF, NF)),
    ("delete", "integrity_link",     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "integrity_settings", (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("post",   "integrity_settings", (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("delete", "integrity_settings", (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "integrity_report",   (IN, NO, NO, NO, OK, OK, OK, OK, OK, NF, NF, NF, NF)),
    ("post",   "integrity_report",   (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # New bank details: the applicant gives them on their own application's page (an empty
    # post: the form again); finance, the operator admin and the auditor see those waiting for
    # verification, finance verifies or refuses them (a refusal without a reason: back to the
    # list with the message).
    ("get",    "application_bank_details",
                                     (IN, NF, OK, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("post",   "application_bank_details",
                                     (IN, NF, OK, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("delete", "application_bank_details",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "bank_details_changes",
                                     (IN, NO, NO, NO, OK, NF, NF, OK, OK, NF, NF, NF, NF)),
    ("post",   "bank_details_changes",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # One change's page shows the old and new details in full: finance only.
    ("get",    "bank_details_change",
                                     (IN, NO, NO, NO, NF, NF, NF, OK, NF, NF, NF, NF, NF)),
    ("post",   "bank_details_change",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("post",   "bank_details_verify",
                                     (IN, NO, NO, NO, NF, NF, NF, GO, NF, NF, NF, NF, NF)),
    ("get",    "bank_details_verify",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("post",   "bank_details_refuse",
                                     (IN, NO, NO, NO, NF, NF, NF, GO, NF, NF, NF, NF, NF)),
    ("get",    "bank_details_refuse",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # Finance enters the details a partner's member sent for a request (an empty post: the
    # form again with its errors).
    ("get",    "bank_details_enter",
                                     (IN, NO, NO, NO, NF, NF, NF, OK, NF, NF, NF, NF, NF)),
    ("post",   "bank_details_enter",
                                     (IN, NO, NO, NO, NF, NF, NF, OK, NF, NF, NF, NF, NF)),
    ("delete", "bank_details_enter",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # Attestations of a grant (the world's application approved): the applicant downloads
    # their own; every role of the fund downloads it (audited); the operator admin words them
    # (an empty post: the form again); anyone checks a code, without an account.
    ("get",    "application_attestation",
                                     (IN, NF, OK, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("post",   "application_attestation",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "staff_application_attestation",
                                     (IN, NO, NO, NO, OK, OK, OK, OK, OK, NF, NF, NF, NF)),
    ("post",   "staff_application_attestation",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "attestation_settings",
                                     (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("post",   "attestation_settings",
                                     (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("delete", "attestation_settings",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "attestation_verify", (OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK)),
    ("post",   "attestation_verify", (NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # Writing to the applicant: those who decide (an empty message: shown again).
    ("post",   "staff_application_message",
                                     (IN, NO, NO, NO, NO, OK, OK, NO, NO, NF, NF, NF, NF)),
    ("get",    "staff_application_message",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # The review desk. Assigning: the operator admin to anyone, those who decide to themselves;
    # unassigning, lifting a lock: the same (an empty form, no assignment, no lock: sent back
    # to the application with a message).
    ("post",   "staff_application_assign",
                                     (IN, NO, NO, NO, GO, GO, GO, NO, NO, NF, NF, NF, NF)),
    ("get",    "staff_application_assign",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("post",   "staff_application_unassign",
                                     (IN, NO, NO, NO, GO, GO, GO, NO, NO, NF, NF, NF, NF)),
    ("get",    "staff_application_unassign",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("post",   "staff_application_release",
                                     (IN, NO, NO, NO, GO, GO, GO, NO, NO, NF, NF, NF, NF)),
    ("get",    "staff_application_release",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # Reviewing (the lock), flagging and resolving flags: those who decide.
    ("post",   "staff_application_claim",
                                     (IN, NO, NO, NO, NO, GO, GO, NO, NO, NF, NF, NF, NF)),
    ("get",    "staff_application_claim",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("post",   "staff_application_flag",
                                     (IN, NO, NO, NO, NO, GO, GO, NO, NO, NF, NF, NF, NF)),
    ("get",    "staff_application_flag",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("post",   "staff_application_flag_resolve",
                                     (IN, NO, NO, NO, NO, GO, GO, NO, NO, NF, NF, NF, NF)),
    ("get",    "staff_application_flag_resolve",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # What the records say about the applicant: every role of the fund.
    ("get",    "staff_application_records",
                                     (IN, NO, NO, NO, OK, OK, OK, OK, OK, NF, NF, NF, NF)),
    ("post",   "staff_application_records",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # Verification against the records: every role of the fund sees it; the operator admin
    # starts one and is sent to its page, the others are refused.
    ("get",    "fund_verification",  (IN, NO, NO, NO, OK, OK, OK, OK, OK, NF, NF, NF, NF)),
    ("post",   "fund_verification",  (IN, NO, NO, NO, GO, NO, NO, NO, NO, NF, NF, NF, NF)),
    ("delete", "fund_verification",  (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "fund_verification_run",
                                     (IN, NO, NO, NO, OK, OK, OK, OK, OK, NF, NF, NF, NF)),
    ("post",   "fund_verification_run",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # The messages to applicants: the fund's operator admin words them (an empty post: the
    # form shown again) and goes back to the default.
    ("get",    "message_templates",  (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("delete", "message_templates",  (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "message_template_edit",
                                     (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("post",   "message_template_edit",
                                     (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("delete", "message_template_edit",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("post",   "message_template_reset",
                                     (IN, NO, NO, NO, GO, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("get",    "message_template_reset",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("post",   "export_start",       (IN, NO, NO, NO, GO, NF, NF, NF, GO, NF, NF, NF, NF)),
    ("get",    "export_start",       (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "export_status",      (IN, NO, NO, NO, OK, NF, NF, NF, OK, NF, NF, NF, NF)),
    ("get",    "export_download",    (IN, NO, NO, NO, OK, NF, NF, NF, OK, NF, NF, NF, NF)),
    # Evaluating an application again: those who decide, and the operator admin.
    ("post",   "staff_application_evaluate",
                                     (IN, NO, NO, NO, GO, GO, GO, NO, NO, NF, NF, NF, NF)),
    ("get",    "staff_application_evaluate",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # The rule editor: the fund's operator admin only.
    ("get",    "rule_versions",      (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("post",   "rule_draft_new",     (IN, NO, NO, NO, GO, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("get",    "rule_draft_new",     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "rule_version",       (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("get",    "rule_draft_edit",    (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    # An empty post: the editor shown again.
    ("post",   "rule_draft_edit",    (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("delete", "rule_draft_edit",    (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "rule_version_preview",
                                     (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("post",   "rule_version_publish",
                                     (IN, NO, NO, NO, GO, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("get",    "rule_version_publish",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "rule_version_reevaluate",
                                     (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    # Without the preview's fingerprint: the confirmation shown again.
    ("post",   "rule_version_reevaluate",
                                     (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("get",    "rule_reevaluation_status",
                                     (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("get",    "intake_partners",    (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("get",    "intake_token_new",   (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    # Empty: the form shown again.
    ("post",   "intake_token_new",   (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("delete", "intake_token_new",   (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "intake_token_revoke",
                                     (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("post",   "intake_token_revoke",
                                     (IN, NO, NO, NO, GO, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("post",   "intake_partner_secret",
                                     (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("get",    "intake_partner_secret",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # The evidence imports are the platform's, not a fund's: for the fund operators' group (its
    # evidence permissions), whatever the roles on funds.
    ("get",    "evidence_batches",   (IN, NO, NO, NO, NO, NO, NO, NO, NO, NO, OK, NO, NO)),
    ("get",    "evidence_import_new",
                                     (IN, NO, NO, NO, NO, NO, NO, NO, NO, NO, OK, NO, NO)),
    # Empty: the form shown again.
    ("post",   "evidence_import_new",
                                     (IN, NO, NO, NO, NO, NO, NO, NO, NO, NO, OK, NO, NO)),
    ("delete", "evidence_import_new",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "evidence_import_status",
                                     (IN, NO, NO, NO, NO, NO, NO, NO, NO, NO, OK, NO, NO)),
    ("get",    "evidence_batch",     (IN, NO, NO, NO, NO, NO, NO, NO, NO, NO, OK, NO, NO)),
    ("get",    "evidence_batch_errors",
                                     (IN, NO, NO, NO, NO, NO, NO, NO, NO, NO, OK, NO, NO)),
    ("get",    "evidence_batch_rollback",
                                     (IN, NO, NO, NO, NO, NO, NO, NO, NO, NO, OK, NO, NO)),
    ("post",   "evidence_batch_rollback",
                                     (IN, NO, NO, NO, NO, NO, NO, NO, NO, NO, GO, NO, NO)),
    ("delete", "evidence_batch_rollback",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # Programmes go by programme roles (entraide/programmes/tests/test_views.py has more): a
    # role on one of its funds gives nothing on the programme (fund A's programme); its donor
    # reads it, its managers and the fund operators manage it (an empty post: the roll-up again
    # with the form's errors); the fund operators keep the exchange rates (an empty post: the
    # form again). A programme role gives nothing on the programme's funds' pages above.
    ("get",    "programme_list",     (IN, NO, NO, NO, OK, OK, OK, OK, OK, OK, OK, OK, OK)),
    ("post",   "programme_list",     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "programme_rollup",   (IN, NO, NO, NO, NF, NF, NF, NF, NF, NF, OK, OK, OK)),
    ("post",   "programme_rollup",   (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("post",   "programme_allocate", (IN, NO, NO, NO, NF, NF, NF, NF, NF, NF, OK, NO, OK)),
    ("get",    "programme_allocate", (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("post",   "programme_role_grant",
                                     (IN, NO, NO, NO, NF, NF, NF, NF, NF, NF, OK, NO, OK)),
    ("get",    "programme_role_grant",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "exchange_rates",     (IN, NO, NO, NO, NO, NO, NO, NO, NO, NO, OK, NO, NO)),
    ("post",   "exchange_rates",     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("post",   "exchange_rates_import",
                                     (IN, NO, NO, NO, NO, NO, NO, NO, NO, NO, OK, NO, NO)),
    ("get",    "exchange_rates_import",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("post",   "exchange_rate_record",
                                     (IN, NO, NO, NO, NO, NO, NO, NO, NO, NO, OK, NO, NO)),
    ("get",    "exchange_rate_record",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # Reports: a fund's for its staff, a programme's for those who read the programme.
    ("get",    "fund_reports",       (IN, NO, NO, NO, OK, OK, OK, OK, OK, NF, NF, NF, NF)),
    ("post",   "fund_reports",       (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "programme_reports",  (IN, NO, NO, NO, NF, NF, NF, NF, NF, NF, OK, OK, OK)),
    ("post",   "programme_reports",  (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "programme_donor_report",
                                     (IN, NO, NO, NO, NF, NF, NF, NF, NF, NF, OK, OK, OK)),
    ("post",   "programme_donor_report",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # A fund's public statistics: published by those who manage it (fund A does not publish,
    # so its public page is not found for anyone).
    ("get",    "public_statistics_settings",
                                     (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("post",   "public_statistics_settings",
                                     (IN, NO, NO, NO, GO, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("delete", "public_statistics_settings",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "fund_statistics_public",
                                     (NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("post",   "fund_statistics_public",
                                     (NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # Crew relief: the programme's managers and the fund operators, never its donor (crew lists
    # are personal data). Empty posts show the form again. The manager and the operator approve
    # a run another manager proposed: the second pair of eyes.
    ("get",    "crew_rosters",       (IN, NO, NO, NO, NF, NF, NF, NF, NF, NF, OK, NO, OK)),
    ("post",   "crew_rosters",       (IN, NO, NO, NO, NF, NF, NF, NF, NF, NF, OK, NO, OK)),
    ("delete", "crew_rosters",       (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "crew_roster",        (IN, NO, NO, NO, NF, NF, NF, NF, NF, NF, OK, NO, OK)),
    ("post",   "crew_roster",        (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "crew_production",    (IN, NO, NO, NO, NF, NF, NF, NF, NF, NF, OK, NO, OK)),
    ("post",   "crew_production",    (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "crew_settings",      (IN, NO, NO, NO, NF, NF, NF, NF, NF, NF, OK, NO, OK)),
    ("post",   "crew_settings",      (IN, NO, NO, NO, NF, NF, NF, NF, NF, NF, OK, NO, OK)),
    ("delete", "crew_settings",      (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "crew_runs",          (IN, NO, NO, NO, NF, NF, NF, NF, NF, NF, OK, NO, OK)),
    ("post",   "crew_runs",          (IN, NO, NO, NO, NF, NF, NF, NF, NF, NF, OK, NO, OK)),
    ("get",    "crew_run",           (IN, NO, NO, NO, NF, NF, NF, NF, NF, NF, OK, NO, OK)),
    ("post",   "crew_run",           (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("post",   "crew_run_approve",   (IN, NO, NO, NO, NF, NF, NF, NF, NF, NF, GO, NO, GO)),
    ("get",    "crew_run_approve",   (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("post",   "crew_run_reject",    (IN, NO, NO, NO, NF, NF, NF, NF, NF, NF, OK, NO, OK)),
    ("get",    "crew_run_reject",    (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("post",   "crew_payout_exclude",
                                     (IN, NO, NO, NO, NF, NF, NF, NF, NF, NF, OK, NO, OK)),
    ("get",    "crew_payout_exclude",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("post",   "crew_payout_include",
                                     (IN, NO, NO, NO, NF, NF, NF, NF, NF, NF, GO, NO, GO)),
    ("get",    "crew_payout_include",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # Privacy: the fund's notice is public; an applicant downloads their own data and asks to
    # erase their own application; the operator admin keeps the policy, requests and register.
    ("get",    "fund_privacy_notice", (OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK)),
    ("delete", "fund_privacy_notice", (NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "my_data_download",   (IN, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK)),
    ("post",   "my_data_download",   (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "application_erasure", (IN, NF, OK, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("post",   "application_erasure", (IN, NF, OK, NF, NF, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("delete", "application_erasure", (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "privacy_retention",  (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("post",   "privacy_retention",  (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("delete", "privacy_retention",  (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "privacy_erasure_requests",
                                     (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("post",   "privacy_erasure_requests",
                                     (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("delete", "privacy_erasure_requests",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "privacy_erasure_request",
                                     (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("post",   "privacy_erasure_request",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "privacy_register",   (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("delete", "privacy_register",   (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    ("get",    "privacy_register_download",
                                     (IN, NO, NO, NO, OK, NF, NF, NF, NF, NF, NF, NF, NF)),
    ("post",   "privacy_register_download",
                                     (IN, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
    # The health check: anyone, no login (GET and HEAD only).
    ("get",    "healthz",            (OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK)),
    ("post",   "healthz",            (NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA, NA)),
]
# fmt: on


@dataclass
class World:
    """Fund A, of programme A, with one person per actor, an application of ``owner`` and one
    of someone else, rules published (version 1) and a draft (version 2); fund B with its own
    reviewer."""

    monkeypatch: Any
    programme: Programme = field(init=False)
    fund: Fund = field(init=False)
    other_fund: Fund = field(init=False)
    application: Application = field(init=False)
    document: ApplicationDocument = field(init=False)
    published: RuleSetVersion = field(init=False)
    draft: RuleSetVersion = field(init=False)
    token: PartnerToken = field(init=False)
    batch: EvidenceBatch = field(init=False)
    verification_run: VerificationRun = field(init=False)
    second_approval: SecondApproval = field(init=False)
    bulk_approval: BulkApproval = field(init=False)
    actors: dict[str, User | None] = field(init=False)
    _export_task_id: str = field(init=False, default="")
    _reevaluation_task_id: str = field(init=False, default="")
    _import_task_id: str = field(init=False, default="")

    def __post_init__(self) -> None:
        self.programme = ProgrammeFactory.create(slug="programme-a")
        self.fund = FundFactory.create(slug="fund-a", programme=self.programme)
        self.other_fund = FundFactory.create(slug="fund-b")
        owner, other = UserFactory.create(), UserFactory.create()
        self.application = ApplicationFactory.create(fund=self.fund, applicant=owner)
        ApplicationFactory.create(fund=self.fund, applicant=other)
        self.document = ApplicationDocument.objects.create(
            fund=self.fund,
            owner=owner,
            application=self.application,
            original_name="payslip.pdf",
            stored_name="0" * 32 + ".pdf",
            content_type="application/pdf",
            size=4,
            sha256="0" * 64,
            scan=ApplicationDocument.Scan.CLEAN,
            uploaded_at=timezone.now(),
        )
        path = document_store.path_of(self.document.stored_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encrypt_bytes(b"%PDF"))  # documents are encrypted at rest
        self.actors = {
            "anonymous": None,
            "applicant": UserFactory.create(),
            "owner": owner,
            "other_applicant": other,
            "reviewer_of_other_fund": FundRoleFactory.create(
                fund=self.other_fund, role=Role.REVIEWER
            ).user,
            "fund_operator": fund_operator(),
            "donor": ProgrammeRoleFactory.create(
                programme=self.programme, role=ProgrammeRole.Role.DONOR
            ).user,
            "programme_manager": ProgrammeRoleFactory.create(
                programme=self.programme, role=ProgrammeRole.Role.MANAGER
            ).user,
        }
        for role in STAFF_ROLES:
            self.actors[role] = FundRoleFactory.create(fund=self.fund, role=role).user
        self.published = RuleSetVersionFactory.create(rule_set__fund=self.fund)
        self.draft = RuleSetVersionFactory.create(rule_set__fund=self.fund, status="draft")
        self.token, _clear = issued_token(fund=self.fund)
        self.batch = EvidenceBatchFactory.create(status="done", file_name="declarations.csv")
        report = Path(settings.EXPORTS_DIR) / "evidence" / f"batch-{self.batch.pk}-errors.csv"
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text("line,column,code,message\n", encoding="utf-8")
        EvidenceBatch.objects.filter(pk=self.batch.pk).update(error_report=str(report))
        self.verification_run = VerificationRunFactory.create(
            fund=self.fund, evidence_batch=self.batch
        )
        reviewer, approver = self.actors["reviewer"], self.actors["approver"]
        assert reviewer is not None
        assert approver is not None
        self.second_approval = SecondApproval.objects.create(
            application=self.application,
            fund=self.fund,
            amount=Decimal("900.00"),
            currency=self.fund.currency,
            grounds=["override"],
            proposed_by=reviewer,
            proposed_at=timezone.now(),
        )
        self.bulk_approval = BulkApproval.objects.create(
            fund=self.fund,
            requested_by=approver,
            requested_at=timezone.now(),
            total=Decimal("0.00"),
            status=BulkApproval.Status.DONE,
        )

    @cached_property
    def relief_run(self) -> ReliefRun:
        """A crew relief run of programme A, proposed by one of its managers: the fund
        operator is the second person (made on first use)."""
        FundFactory.create(programme=self.programme, kind=Fund.Kind.CREW_RELIEF)
        proposer = UserFactory.create()
        ProgrammeRole.objects.create(
            programme=self.programme, user=proposer, role=ProgrammeRole.Role.MANAGER
        )
        production = ProductionFactory.create(programme=self.programme)
        CrewMemberFactory.create(production=production)
        return relief.propose_run(
            actor=proposer, programme=self.programme, productions=[production]
        )

    @cached_property
    def roster_import(self) -> RosterImport:
        return RosterImportFactory.create(programme=self.programme)

    @property
    def export_task_id(self) -> str:
        """A finished export of fund A's applications (made on first use)."""
        if not self._export_task_id:
            admin = self.actors["operator_admin"]
            assert admin is not None
            self._export_task_id = str(
                export_applications.enqueue(self.fund.pk, admin.pk, {}, "csv", "fr").id
            )
            run_db_worker(inside_test_transaction=True, monkeypatch=self.monkeypatch)
        return self._export_task_id

    @property
    def reevaluation_task_id(self) -> str:
        """A finished re-evaluation of fund A's pending applications (made on first use)."""
        if not self._reevaluation_task_id:
            admin = self.actors["operator_admin"]
            assert admin is not None
            self._reevaluation_task_id = str(
                reevaluate_pending_applications.enqueue(
                    self.fund.pk, self.published.pk, admin.pk
                ).id
            )
            run_db_worker(inside_test_transaction=True, monkeypatch=self.monkeypatch)
        return self._reevaluation_task_id

    @property
    def import_task_id(self) -> str:
        """An evidence import waiting for the worker (made on first use)."""
        if not self._import_task_id:
            waiting = import_uploaded_evidence.enqueue("rights", "0/rights.csv", "", None, "en")
            self._import_task_id = str(waiting.id)
        return self._import_task_id

    @cached_property
    def flag(self) -> Flag:
        """An open flag on the application (made on first use)."""
        return FlagFactory.create(application=self.application)

    @cached_property
    def payment_batch(self) -> PaymentBatch:
        """A batch of one award whose file is ready, prepared by the fund's finance person and
        released by another (made on first use, with the fund's payment settings)."""
        PaymentSettingsFactory.create(fund=self.fund)
        preparer = self.actors["finance"]
        approver = self.actors["approver"]
        assert preparer is not None
        assert approver is not None
        application = ApplicationFactory.create(fund=self.fund, status=Application.Status.APPROVED)
        ledger.place_award(
            actor=approver, fund=self.fund, application=application, amount=Decimal("500.00")
        )
        batch = payment_services.prepare_payment_batch(
            actor=preparer, fund=self.fund, selection=Selection()
        )
        releaser = FundRoleFactory.create(fund=self.fund, role=Role.FINANCE).user
        payment_services.release_payment_batch(actor=releaser, batch=batch)
        payment_services.generate_payment_file(batch.pk)  # what the worker does
        batch.refresh_from_db()
        return batch

    @cached_property
    def awarded_application(self) -> Application:
        """The owner's application, approved with its award reserved (made on first use)."""
        approver = self.actors["approver"]
        assert approver is not None
        Application.objects.filter(pk=self.application.pk).update(
            status=Application.Status.APPROVED
        )
        ledger.place_award(
            actor=approver, fund=self.fund, application=self.application, amount=Decimal("500.00")
        )
        return self.application

    @cached_property
    def link(self) -> Link:
        """A flagged pair of the application and another of fund A (made on first use)."""
        return LinkFactory.create(left=self.application, right__fund=self.fund)

    @cached_property
    def linkage_run(self) -> LinkageRun:
        """A finished full duplicate check of fund A (made on first use)."""
        return LinkageRunFactory.create(fund=self.fund)

    @cached_property
    def bank_return(self) -> BankReturn:
        """A bank's status report imported for fund A (made on first use)."""
        return BankReturnFactory.create(fund=self.fund)

    @cached_property
    def bank_details_change(self) -> BankDetailsChange:
        """New bank details of the application, waiting for verification (made on first use)."""
        return BankDetailsChangeFactory.create(application=self.application)

    @cached_property
    def erasure_request(self) -> ErasureRequest:
        """A request to erase the application's personal data (made on first use)."""
        return ErasureRequestFactory.create(application=self.application)

    @cached_property
    def requested_bank_details_change(self) -> BankDetailsChange:
        """New bank details asked of another approved application's applicant after a returned
        transfer, not given yet (made on first use)."""
        application = ApplicationFactory.create(fund=self.fund, status=Application.Status.APPROVED)
        return BankDetailsChangeFactory.create(
            application=application,
            status=BankDetailsChange.Status.REQUESTED,
            iban="",
            account_holder="",
            holder_matches=None,
            submitted_at=None,
        )


URL_KWARGS: dict[str, Callable[[World], dict[str, str]]] = {
    "home": lambda w: {},
    "fund_privacy_notice": lambda w: {"slug": w.fund.slug},
    "my_data_download": lambda w: {},
    "application_erasure": lambda w: {"reference": w.application.reference},
    "privacy_retention": lambda w: {"slug": w.fund.slug},
    "privacy_erasure_requests": lambda w: {"slug": w.fund.slug},
    "privacy_erasure_request": lambda w: {
        "slug": w.fund.slug,
        "reference": w.erasure_request.reference,
    },
    "privacy_register": lambda w: {},
    "privacy_register_download": lambda w: {"file_format": "csv"},
    "healthz": lambda w: {},
    "fund_page": lambda w: {"slug": w.fund.slug},
    "fund_self_check": lambda w: {"slug": w.fund.slug},
    "fund_public_page_edit": lambda w: {"slug": w.fund.slug},
    "apply": lambda w: {"slug": w.fund.slug},
    "apply_step": lambda w: {"slug": w.fund.slug, "step": "identity"},
    "document_download": lambda w: {"document_id": w.document.pk},
    "staff_application_message": lambda w: {
        "slug": w.fund.slug,
        "reference": w.application.reference,
    },
    **{
        name: lambda w: {"slug": w.fund.slug, "reference": w.application.reference}
        for name in (
            "staff_application_assign",
            "staff_application_unassign",
            "staff_application_claim",
            "staff_application_release",
            "staff_application_flag",
        )
    },
    "staff_application_flag_resolve": lambda w: {
        "slug": w.fund.slug,
        "reference": w.application.reference,
        "flag_id": w.flag.pk,
    },
    "staff_application_records": lambda w: {
        "slug": w.fund.slug,
        "reference": w.application.reference,
    },
    "my_applications": lambda w: {},
    "application_status": lambda w: {"reference": w.application.reference},
    "intake_partners": lambda w: {"slug": w.fund.slug},
    "intake_token_new": lambda w: {"slug": w.fund.slug},
    "intake_token_revoke": lambda w: {"slug": w.fund.slug, "token_id": w.token.pk},
    "intake_partner_secret": lambda w: {"slug": w.fund.slug, "partner": w.token.partner.slug},
    "staff_home": lambda w: {},
    "fund_create": lambda w: {},
    "fund_dashboard": lambda w: {"slug": w.fund.slug},
    "application_list": lambda w: {"slug": w.fund.slug},
    "application_bulk_assign": lambda w: {"slug": w.fund.slug},
    "application_queue_round_robin": lambda w: {"slug": w.fund.slug},
    "staff_application": lambda w: {"slug": w.fund.slug, "reference": w.application.reference},
    "second_approval_answer": lambda w: {
        "slug": w.fund.slug,
        "reference": w.application.reference,
        "proposal_id": w.second_approval.pk,
    },
    "fund_budget": lambda w: {"slug": w.fund.slug},
    "fund_waitlist": lambda w: {"slug": w.fund.slug},
    "payments_overview": lambda w: {"slug": w.fund.slug},
    "payment_settings": lambda w: {"slug": w.fund.slug},
    **{
        name: lambda w: {"slug": w.fund.slug, "reference": w.payment_batch.reference}
        for name in (
            "payment_batch",
            "payment_batch_release",
            "payment_batch_generate",
            "payment_batch_sent",
            "payment_batch_cancel",
            "payment_batch_file",
        )
    },
    "bank_returns": lambda w: {"slug": w.fund.slug},
    "bank_return": lambda w: {"slug": w.fund.slug, "return_id": w.bank_return.pk},
    "payments_reconciliation": lambda w: {"slug": w.fund.slug},
    "failed_payment_release": lambda w: {
        "slug": w.fund.slug,
        "payment_id": w.payment_batch.payments.get().pk,
    },
    "integrity_queue": lambda w: {"slug": w.fund.slug},
    "integrity_check_request": lambda w: {"slug": w.fund.slug},
    "integrity_run": lambda w: {"slug": w.fund.slug, "run_id": w.linkage_run.pk},
    "integrity_link": lambda w: {"slug": w.fund.slug, "link_id": w.link.pk},
    "integrity_settings": lambda w: {"slug": w.fund.slug},
    "integrity_report": lambda w: {"slug": w.fund.slug},
    "application_attestation": lambda w: {"reference": w.awarded_application.reference},
    "staff_application_attestation": lambda w: {
        "slug": w.fund.slug,
        "reference": w.awarded_application.reference,
    },
    "attestation_settings": lambda w: {"slug": w.fund.slug},
    "attestation_verify": lambda w: {},
    "application_bank_details": lambda w: {"reference": w.application.reference},
    "bank_details_changes": lambda w: {"slug": w.fund.slug},
    **{
        name: lambda w: {"slug": w.fund.slug, "change_id": w.bank_details_change.pk}
        for name in ("bank_details_change", "bank_details_verify", "bank_details_refuse")
    },
    "bank_details_enter": lambda w: {
        "slug": w.fund.slug,
        "change_id": w.requested_bank_details_change.pk,
    },
    "budget_rules": lambda w: {"slug": w.fund.slug},
    "bulk_approval": lambda w: {"slug": w.fund.slug},
    "bulk_approval_status": lambda w: {"slug": w.fund.slug, "bulk_id": w.bulk_approval.pk},
    "fund_verification": lambda w: {"slug": w.fund.slug},
    "fund_verification_run": lambda w: {"slug": w.fund.slug, "run_id": w.verification_run.pk},
    "message_templates": lambda w: {"slug": w.fund.slug},
    "message_template_edit": lambda w: {"slug": w.fund.slug, "kind": "approved", "language": "fr"},
    "message_template_reset": lambda w: {"slug": w.fund.slug, "kind": "approved", "language": "fr"},
    "export_start": lambda w: {"slug": w.fund.slug},
    "export_status": lambda w: {"slug": w.fund.slug, "task_id": w.export_task_id},
    "export_download": lambda w: {"slug": w.fund.slug, "task_id": w.export_task_id},
    "staff_application_evaluate": lambda w: {
        "slug": w.fund.slug,
        "reference": w.application.reference,
    },
    "rule_versions": lambda w: {"slug": w.fund.slug},
    "rule_draft_new": lambda w: {"slug": w.fund.slug},
    "rule_version": lambda w: {"slug": w.fund.slug, "number": w.published.number},
    "rule_draft_edit": lambda w: {"slug": w.fund.slug, "number": w.draft.number},
    "rule_version_preview": lambda w: {"slug": w.fund.slug, "number": w.draft.number},
    "rule_version_publish": lambda w: {"slug": w.fund.slug, "number": w.draft.number},
    "rule_version_reevaluate": lambda w: {"slug": w.fund.slug, "number": w.published.number},
    "rule_reevaluation_status": lambda w: {
        "slug": w.fund.slug,
        "task_id": w.reevaluation_task_id,
    },
    "evidence_batches": lambda w: {},
    "evidence_import_new": lambda w: {},
    "evidence_import_status": lambda w: {"task_id": w.import_task_id},
    "evidence_batch": lambda w: {"batch_id": w.batch.pk},
    "evidence_batch_errors": lambda w: {"batch_id": w.batch.pk},
    "evidence_batch_rollback": lambda w: {"batch_id": w.batch.pk},
    "programme_list": lambda w: {},
    **{
        name: lambda w: {"slug": w.programme.slug}
        for name in (
            "programme_rollup",
            "programme_allocate",
            "programme_role_grant",
            "programme_reports",
            "crew_rosters",
            "crew_settings",
            "crew_runs",
        )
    },
    "exchange_rates": lambda w: {},
    "exchange_rates_import": lambda w: {},
    "exchange_rate_record": lambda w: {},
    "fund_reports": lambda w: {"slug": w.fund.slug},
    "public_statistics_settings": lambda w: {"slug": w.fund.slug},
    "fund_statistics_public": lambda w: {"slug": w.fund.slug},
    "programme_donor_report": lambda w: {"slug": w.programme.slug},
    "crew_roster": lambda w: {"slug": w.programme.slug, "import_id": w.roster_import.pk},
    "crew_production": lambda w: {
        "slug": w.programme.slug,
        "production_id": w.relief_run.productions.get().pk,
    },
    **{
        name: lambda w: {"slug": w.programme.slug, "reference": w.relief_run.reference}
        for name in ("crew_run", "crew_run_approve", "crew_run_reject")
    },
    **{
        name: lambda w: {
            "slug": w.programme.slug,
            "reference": w.relief_run.reference,
            "payout_id": w.relief_run.payouts.get().pk,
        }
        for name in ("crew_payout_exclude", "crew_payout_include")
    },
}

# Left out on purpose: allauth's pages (login, sign-up, 2FA: for everyone, by design), the
# language switch, Django's admin site (superusers), and the API, which answers tokens, not
# sessions: entraide/intake/tests/test_api_permissions.py has its table of every operation.
EXCLUDED_URL_PREFIXES = ("accounts/", "i18n/", "admin/", "api/")


def _cases() -> Iterator[Any]:
    for method, name, expectations in MATRIX:
        assert len(expectations) == len(ACTORS), f"{method} {name}: one expectation per actor"
        for actor, expected in zip(ACTORS, expectations, strict=True):
            yield pytest.param(method, name, actor, expected, id=f"{method}-{name}-{actor}")


def test_the_matrix_covers_every_url_of_the_site_but_accounts_i18n_and_admin() -> None:
    names = {pattern.name for pattern in site_patterns(EXCLUDED_URL_PREFIXES)}
    assert names == set(URL_KWARGS)
    assert names == {name for _, name, _ in MATRIX}


@pytest.fixture
def world(db: None, settings: Any, monkeypatch: Any, tmp_path: Any) -> World:
    # Export pages read the task's result, which the immediate backend does not keep.
    settings.TASKS = DATABASE_TASKS
    settings.DOCUMENTS_DIR = tmp_path / "documents"
    return World(monkeypatch)


@pytest.mark.parametrize(("method", "name", "actor", "expected"), list(_cases()))
def test_each_actor_gets_the_expected_answer_on_each_page(
    client: Client, world: World, method: str, name: str, actor: str, expected: int | str
) -> None:
    url = reverse(name, kwargs=URL_KWARGS[name](world))
    user = world.actors[actor]
    if user is not None:
        client.force_login(user)

    response = getattr(client, method)(url)
    response.close()

    if expected == IN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login") + "?next=")
    elif expected == GO:
        assert response.status_code == 302
        assert not response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == expected


# --------------------------------------------------------------------------------------------
# Staff home: the list of one's funds
# --------------------------------------------------------------------------------------------


def test_staff_home_lists_only_the_funds_where_the_person_has_a_role(
    client: Client, db: None
) -> None:
    mine = FundRoleFactory.create(role=Role.FINANCE)
    FundRoleFactory.create(fund=FundFactory.create(name="Not mine"), role=Role.REVIEWER)
    client.force_login(mine.user)

    response = client.get(reverse("staff_home"))

    assert list(response.context["funds"]) == [mine.fund]
    assert "Not mine" not in response.content.decode()
    assert response.context["can_create"] is False


@pytest.mark.parametrize("n_funds", [2, 25])
def test_staff_home_uses_a_fixed_number_of_queries(
    client: Client, db: None, django_assert_max_num_queries: Any, n_funds: int
) -> None:
    user = fund_operator()
    for _ in range(n_funds):
        FundRoleFactory.create(user=user, role=Role.OPERATOR_ADMIN)
    client.force_login(user)

    with django_assert_max_num_queries(7):
        response = client.get(reverse("staff_home"))

    assert response.status_code == 200
    assert len(response.context["funds"]) == n_funds


# --------------------------------------------------------------------------------------------
# Creating a fund
# --------------------------------------------------------------------------------------------


def _fund_data(**overrides: str) -> dict[str, str]:
    today = timezone.now().date()
    data = {
        "name": "Fonds de solidarité tournages",
        "slug": "solidarite-tournages",
        "description": "Pour les techniciens sans tournage depuis trois mois.",
        "currency": "EUR",
        "budget": "250000.00",
        "standard_amount": "800.00",
        "opens_on": today.isoformat(),
        "opening_time": "09:00",
        "closes_on": (today + dt.timedelta(days=60)).isoformat(),
        "closing_time": "23:59",
        "time_zone": "Europe/Paris",
    }
    data.update(overrides)
    return data


def test_creating_a_fund_redirects_to_its_dashboard_and_makes_the_creator_its_operator_admin(
    client: Client, db: None
) -> None:
    creator = fund_operator()
    client.force_login(creator)

    response = client.post(reverse("fund_create"), _fund_data())

    fund = Fund.objects.get(slug="solidarite-tournages")
    assert response.status_code == 302
    assert response["Location"] == reverse("fund_dashboard", kwargs={"slug": fund.slug})
    assert fund.budget == Decimal("250000.00")
    assert fund.standard_amount == Decimal("800.00")
    assert (fund.opening_time, fund.closing_time) == (dt.time(9, 0), dt.time(23, 59))
    assert list(FundRole.objects.filter(fund=fund).values_list("user", "role")) == [
        (creator.pk, Role.OPERATOR_ADMIN)
    ]
    assert client.get(response["Location"]).status_code == 200


def test_a_window_that_closes_before_it_opens_is_refused_on_the_closing_date_keeping_the_input(
    client: Client, db: None
) -> None:
    client.force_login(fund_operator())
    data = _fund_data(opens_on="2031-05-10", closes_on="2031-05-01")

    response = client.post(reverse("fund_create"), data)

    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["closes_on"]
    assert form.errors["closes_on"] == ["The window must close on or after the day it opens."]
    html = response.content.decode()
    assert 'id="id_closes_on_error"' in html
    assert 'aria-invalid="true"' in html
    assert 'value="2031-05-10"' in html
    assert 'value="2031-05-01"' in html
    assert 'value="Fonds de solidarité tournages"' in html
    assert 'value="250000.00"' in html
    assert not Fund.objects.exists()


def test_a_short_name_already_taken_is_refused_on_the_slug_field(client: Client, db: None) -> None:
    FundFactory.create(slug="solidarite-tournages")
    client.force_login(fund_operator())

    response = client.post(reverse("fund_create"), _fund_data())

    assert response.status_code == 200
    assert response.context["form"].errors["slug"] == [
        "A fund with this short name already exists."
    ]
    assert Fund.objects.count() == 1


def test_a_staff_member_outside_the_fund_operators_group_cannot_post_a_new_fund(
    client: Client, db: None
) -> None:
    client.force_login(FundRoleFactory.create(role=Role.OPERATOR_ADMIN).user)

    response = client.post(reverse("fund_create"), _fund_data())

    assert response.status_code == 403
    assert not Fund.objects.filter(slug="solidarite-tournages").exists()
