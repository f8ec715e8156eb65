"""The applicant's copy of their data: one ZIP, streamed, with everything about them and
nothing about anyone else."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from entraide.accounts.tests.factories import UserFactory
from entraide.applications import documents as document_store
from entraide.applications import erasure as application_erasure
from entraide.applications import services as application_services
from entraide.applications.models import ApplicationDocument
from entraide.applications.tests.portal_factories import PDF
from entraide.audit.models import AuditEvent
from entraide.core import crypto
from entraide.funds.models import FundRole
from entraide.funds.tests.factories import FundFactory
from entraide.privacy.tests.factories import Life, member_of, upload

pytestmark = pytest.mark.django_db


def download(client: Any, user: Any) -> tuple[Any, dict[str, Any], zipfile.ZipFile]:
    client.force_login(user)
    response = client.get(reverse("my_data_download"))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    return response, json.loads(archive.read("data.json")), archive


def test_the_copy_holds_every_application_with_its_decision_payments_and_files(
    client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    person = UserFactory()
    paid = Life(FundFactory(), person, first_name="Jeanne", last_name="Martel")
    paid.ask_and_answer("Votre fiche de paie ?", "La voici.")
    paid.approve()
    paid.pay(django_capture_on_commit_callbacks)
    refused = Life(FundFactory(), person, first_name="Jeanne", last_name="Martel")
    refused.reject("Vos revenus dépassent le plafond.")
    started = FundFactory()
    draft = application_services.resume_draft(actor=person, fund=started)
    application_services.add_draft_document(
        actor=person, draft=draft, requirement="id", upload=upload("id.pdf")
    )
    someone_else = Life(paid.fund, UserFactory(), first_name="Other", last_name="Person")

    response, data, archive = download(client, person)

    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    by_reference = {entry["reference"]: entry for entry in data["applications"]}
    assert set(by_reference) == {paid.application.reference, refused.application.reference}
    entry = by_reference[paid.application.reference]
    assert entry["identity"]["social_security_number"] == paid.refresh().nir  # in clear
    assert entry["bank_details"]["iban"] == paid.application.iban
    assert entry["identity"]["last_name"] == "Martel"
    assert entry["decision"]["outcome"] == "approved"
    assert entry["award"]["status"] == "paid"
    assert entry["payments"][0]["iban"] == paid.application.iban
    assert entry["payments"][0]["sent_at"]
    assert [m["from"] for m in entry["messages"]] == ["fund", "you"]
    assert entry["messages"][1]["documents"][0]["file"].startswith("documents/")
    statuses = [step["status"] for step in entry["status_history"]]
    assert statuses[0] == "received"
    assert statuses[-1] == "paid"
    assert "info_requested" in statuses
    assert "approved" in statuses
    refusal = by_reference[refused.application.reference]["decision"]
    assert refusal["reason_given"] == "Vos revenus dépassent le plafond."
    assert data["applications_in_progress"][0]["fund"]["slug"] == started.slug
    # The files, in clear: the first document, the answer's, the draft's.
    files = [name for name in archive.namelist() if name.startswith("documents/")]
    assert len(files) == 4
    assert all(archive.read(name) == PDF for name in files)
    # Nobody else, and none of the staff.
    text = archive.read("data.json").decode()
    assert someone_else.application.reference not in text
    assert "Other" not in text
    assert paid.reviewer.email not in text
    for event in entry["history"]:
        assert event["by"] in {"you", "fund", "system"}


def test_the_download_is_audited_under_the_account_number_only(client: Any) -> None:
    person = UserFactory()
    Life(FundFactory(), person).reject("Non.")
    download(client, person)
    event = AuditEvent.objects.get(action="privacy.data_download")
    assert event.actor_id is None
    assert event.changes["account"] == person.pk
    assert event.changes["applications"] == 1
    assert event.changes["documents"] == 1
    assert str(person.email) not in f"{event.actor_label} {event.object_label} {event.changes}"


def test_a_file_stored_encrypted_is_given_in_clear(client: Any) -> None:
    person = UserFactory()
    life = Life(FundFactory(), person)
    document = ApplicationDocument.objects.get(application=life.application)
    path = document_store.path_of(document.stored_name)
    path.write_bytes(crypto.encrypt_bytes(PDF))
    assert application_erasure.read(document.stored_name) == PDF
    _response, _data, archive = download(client, person)
    assert [archive.read(n) for n in archive.namelist() if n.startswith("documents/")] == [PDF]


def test_a_missing_file_is_listed_and_not_copied(client: Any) -> None:
    person = UserFactory()
    life = Life(FundFactory(), person)
    document = ApplicationDocument.objects.get(application=life.application)
    document_store.discard(document.stored_name)
    _response, data, archive = download(client, person)
    assert data["applications"][0]["documents"][0]["file"] is None
    assert archive.namelist() == ["data.json"]


def test_someone_without_applications_gets_their_account_only(client: Any) -> None:
    person = UserFactory()
    _response, data, _archive = download(client, person)
    assert data["applications"] == []
    assert data["account"]["email"] == person.email


def test_staff_get_their_own_copy_not_their_fund_s(client: Any) -> None:
    fund = FundFactory()
    Life(fund, UserFactory())
    admin = member_of(fund, FundRole.Role.OPERATOR_ADMIN)
    _response, data, _archive = download(client, admin)
    assert data["applications"] == []


def test_the_download_needs_an_account(client: Any) -> None:
    response = client.get(reverse("my_data_download"))
    assert response.status_code == 302
    assert "login" in response["Location"]
