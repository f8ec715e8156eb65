from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from entraide.accounts.models import User
from entraide.funds.models import Fund
from entraide.payments import services
from entraide.payments.models import Payment, PaymentBatch
from entraide.payments.services import Selection
from entraide.payments.tests.helpers import approved, sent_batch, status_report


@pytest.mark.django_db
def test_export_generates_a_released_batch_file_when_the_worker_has_not(
    fund: Fund, preparer: User, releaser: User, tmp_path: Path
) -> None:
    approved(fund, 2)
    batch = services.prepare_payment_batch(actor=preparer, fund=fund, selection=Selection())
    services.release_payment_batch(actor=releaser, batch=batch)  # no worker ran
    out = io.StringIO()
    target = tmp_path / "batch.xml"
    call_command(
        "payments", "export", batch.reference, "--as", preparer.email, "--output", str(target),
        stdout=out,
    )  # fmt: skip
    summary = json.loads(out.getvalue())
    assert (summary["batch"], summary["transfers"]) == (batch.reference, 2)
    assert target.read_bytes().startswith(b"<?xml")
    batch.refresh_from_db()
    assert batch.status == PaymentBatch.Status.READY
    with pytest.raises(CommandError):
        call_command("payments", "export", "P-NONE-NONE", "--as", preparer.email)


@pytest.mark.django_db
def test_import_return_and_reconcile_report_in_json_lines(
    fund: Fund,
    preparer: User,
    releaser: User,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    (award,) = approved(fund, 1)
    batch = sent_batch(fund, preparer, releaser, django_capture_on_commit_callbacks)
    report = tmp_path / "status.xml"
    report.write_bytes(
        status_report(
            batch.reference, [(award.application.reference, "RJCT", "AM04"), ("A-X", "RJCT", "")]
        )
    )
    out = io.StringIO()
    call_command(
        "payments", "import-return", str(report), "--fund", fund.slug, "--as", preparer.email,
        stdout=out,
    )  # fmt: skip
    *problems, summary = [json.loads(line) for line in out.getvalue().splitlines()]
    assert (summary["failed"], summary["problems"], len(problems)) == (1, 1, 1)
    assert Payment.objects.get(award=award).reason_code == "AM04"
    out = io.StringIO()
    call_command("payments", "reconcile", "--fund", fund.slug, stdout=out)
    checks = [json.loads(line) for line in out.getvalue().splitlines() if "check" in line]
    assert checks
    assert all(check["holds"] for check in checks)
