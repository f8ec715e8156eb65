"""The evidence API: a script sends a file with its owner's personal token, follows the import,
fetches the error report; problems for everything else."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from entraide.accounts.models import User
from entraide.accounts.services import issue_api_token
from entraide.accounts.tests.factories import UserFactory
from entraide.core.tests.worker import DATABASE_TASKS, run_db_worker
from entraide.evidence.models import EvidenceBatch
from entraide.evidence.tests.factories import EvidenceBatchFactory
from entraide.evidence.tests.helpers import declarations_csv, fund_operator, with_permissions
from entraide.intake.tests.factories import issued_token

IMPORTS = "/api/v1/evidence/imports"


@pytest.fixture
def db_tasks(settings: Any) -> None:
    settings.TASKS = DATABASE_TASKS


def bearer(user: User) -> dict[str, str]:
    _token, raw = issue_api_token(actor=None, user=user, name="nightly import")
    return {"Authorization": f"Bearer {raw}", "Accept-Language": "en"}


def send(client: Client, headers: dict[str, str], content: bytes | None, **data: str) -> Any:
    form: dict[str, Any] = {"kind": "declarations", **data}
    if content is not None:
        form["file"] = SimpleUploadedFile("declarations-2024-01.csv", content, "text/csv")
    return client.post(IMPORTS, form, headers=headers)


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.usefixtures("db_tasks")
def test_a_script_imports_a_file_follows_it_and_fetches_the_error_report(
    client: Client, transactional_db: None
) -> None:
    operator = fund_operator()
    headers = bearer(operator)

    accepted = send(client, headers, declarations_csv(bad_lines=2), source="nightly export")

    assert accepted.status_code == 202, accepted.content
    body = accepted.json()
    status_url = body["links"]["self"]
    assert accepted["Location"] == status_url == f"{IMPORTS}/{body['task_id']}"
    assert body["status"] == "queued"
    assert client.get(status_url, headers=headers).json()["status"] == "queued"

    run_db_worker()

    status = client.get(status_url, headers=headers)
    assert status.status_code == 200
    report = status.json()
    batch = EvidenceBatch.objects.get()
    assert report["status"] == "done"
    assert report["progress"]["done"] == report["progress"]["total"]
    assert report["result"] == {
        "outcome": "imported",
        "batch": batch.pk,
        "kind": "declarations",
        "status": "done",
        "read": 4,
        "imported": 2,
        "rejected": 2,
        "duplicates": 0,
        "period": ["2024-01-02", "2024-01-12"],
        "warnings": [],
    }
    assert (batch.loaded_by, batch.source) == (operator, "nightly export")
    errors = client.get(report["links"]["errors"], headers=headers)
    assert errors.status_code == 200
    assert errors["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(errors.streaming_content).decode())))
    assert [(row["line"], row["column"], row["code"]) for row in rows] == [
        ("4", "naf", "invalid_naf"),
        ("5", "naf", "invalid_naf"),
    ]


@pytest.mark.usefixtures("db_tasks")
def test_a_file_sent_twice_is_refused_the_second_time_in_the_result(
    client: Client, transactional_db: None
) -> None:
    headers = bearer(fund_operator())
    send(client, headers, declarations_csv())
    second = send(client, headers, declarations_csv())
    run_db_worker()

    report = client.get(second.json()["links"]["self"], headers=headers).json()

    first = EvidenceBatch.objects.get()
    assert report["status"] == "done"
    assert report["result"]["outcome"] == "refused"
    assert report["result"]["code"] == "already_imported"
    assert report["result"]["batch"] == first.pk
    assert f"batch {first.pk}" in report["result"]["message"]
    assert report["links"]["errors"] is None


def test_an_unknown_kind_is_a_problem_on_the_field_kind(client: Client, db: None) -> None:
    body = problem(send(client, bearer(fund_operator()), declarations_csv(), kind="payroll"), 422)

    assert body["code"] == "validation_failed"
    assert [error["path"] for error in body["errors"]] == ["kind"]
    assert "declarations, rights, benefits, cancellations" in body["errors"][0]["message"]


def test_a_request_without_a_file_is_a_problem_on_the_field_file(client: Client, db: None) -> None:
    body = problem(send(client, bearer(fund_operator()), None), 422)

    assert [error["path"] for error in body["errors"]] == ["file"]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer ents_not-a-token", "Basic eDp5", "partner", "revoked", "inactive"],
)
def test_without_a_valid_personal_token_the_answer_is_401(
    client: Client, db: None, authorization: str | None
) -> None:
    operator = fund_operator()
    if authorization == "partner":
        authorization = f"Bearer {issued_token()[1]}"  # a partner's token is not a person's
    elif authorization in ("revoked", "inactive"):
        token, raw = issue_api_token(actor=None, user=operator)
        if authorization == "revoked":
            token.revoked_at = timezone.now()
            token.save()
        else:
            User.objects.filter(pk=operator.pk).update(is_active=False)
        authorization = f"Bearer {raw}"
    headers = {"Authorization": authorization} if authorization else {}
    batch = EvidenceBatchFactory.create()

    for response in (
        send(client, headers, declarations_csv()),
        client.get(f"{IMPORTS}/00000000-0000-0000-0000-000000000000", headers=headers),
        client.get(f"/api/v1/evidence/batches/{batch.pk}/errors", headers=headers),
    ):
        body = problem(response, 401)
        assert body["code"] == "unauthorized"
        assert "personal API token" in body["detail"]
        assert response["WWW-Authenticate"].startswith('Bearer realm="entraide"')
    assert not EvidenceBatch.objects.exclude(pk=batch.pk).exists()


def test_a_token_of_someone_without_the_permissions_gets_403(client: Client, db: None) -> None:
    headers = bearer(UserFactory.create())
    batch = EvidenceBatchFactory.create()

    for response in (
        send(client, headers, declarations_csv()),
        client.get(f"{IMPORTS}/00000000-0000-0000-0000-000000000000", headers=headers),
        client.get(f"/api/v1/evidence/batches/{batch.pk}/errors", headers=headers),
    ):
        assert problem(response, 403)["code"] == "permission_denied"


def test_someone_who_may_only_read_cannot_send_a_file(client: Client, db: None) -> None:
    headers = bearer(with_permissions("view_evidencebatch"))

    assert problem(send(client, headers, declarations_csv()), 403)["code"] == "permission_denied"


@pytest.mark.usefixtures("db_tasks")
def test_unknown_imports_and_batches_without_a_report_are_404(client: Client, db: None) -> None:
    headers = bearer(fund_operator())
    batch = EvidenceBatchFactory.create()

    for url in (
        f"{IMPORTS}/00000000-0000-0000-0000-000000000000",
        f"{IMPORTS}/not-a-task",
        f"/api/v1/evidence/batches/{batch.pk}/errors",
        "/api/v1/evidence/batches/999999/errors",
    ):
        assert problem(client.get(url, headers=headers), 404)["code"] == "not_found"


def test_the_openapi_document_describes_the_evidence_endpoints(client: Client, db: None) -> None:
    schema = client.get("/api/openapi.json").json()

    create = schema["paths"]["/api/v1/evidence/imports"]["post"]
    assert {"202", "401", "403", "422"} <= set(create["responses"])
    assert list(create["responses"]["422"]["content"]) == ["application/problem+json"]
    assert "multipart/form-data" in create["requestBody"]["content"]
    errors = schema["paths"]["/api/v1/evidence/batches/{batch_id}/errors"]["get"]
    assert "text/csv" in errors["responses"]["200"]["content"]
    assert schema["components"]["securitySchemes"]["StaffBearer"]["scheme"] == "bearer"
