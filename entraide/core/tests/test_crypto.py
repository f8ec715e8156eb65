"""Encryption at rest: no NIR, IBAN or note in clear in the database, lookups by blind index,
keys rotated without losing a value."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import override_settings

from entraide.accounts.tests.factories import UserFactory
from entraide.applications.models import Application, ApplicationDraft
from entraide.applications.tests.factories import ApplicationFactory
from entraide.core import crypto
from entraide.core.key_rotation import rotate_all
from entraide.core.masking import mask_identifier
from entraide.funds.tests.factories import FundFactory
from entraide.review.models import Flag

NIR = "185057512345678"
IBAN = "FR7630006000011234567890189"


def raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return str(cursor.fetchone()[0])


@pytest.fixture
def keys() -> Iterator[list[str]]:
    """Two fresh keys, the first one encrypting; the settings' keys again afterwards."""
    fresh = [Fernet.generate_key().decode(), Fernet.generate_key().decode()]
    crypto.forget_keys()
    yield fresh
    crypto.forget_keys()


def test_a_nir_and_an_iban_are_stored_encrypted_and_read_back_in_clear(db: None) -> None:
    application = ApplicationFactory.create(nir=NIR, iban=IBAN)

    assert NIR not in raw("applications_application", "nir", application.pk)
    assert "1234567890189" not in raw("applications_application", "iban", application.pk)
    fresh = Application.objects.get(pk=application.pk)
    assert (fresh.nir, fresh.iban) == (NIR, IBAN)
    assert fresh.nir_index == crypto.blind_index("nir", "1 85 05 75 123 456 78")
    assert fresh.iban_index == crypto.blind_index("iban", "fr76 3000 6000 0112 3456 7890 189")


def test_the_same_value_encrypts_differently_each_time_but_indexes_the_same(db: None) -> None:
    one = ApplicationFactory.create(nir=NIR)
    other = ApplicationFactory.create(nir=NIR)

    assert raw("applications_application", "nir", one.pk) != raw(
        "applications_application", "nir", other.pk
    )
    assert one.nir_index == other.nir_index != ""


def test_one_application_per_person_per_fund_holds_on_the_blind_index(db: None) -> None:
    fund = FundFactory.create()
    ApplicationFactory.create(fund=fund, nir=NIR)

    with pytest.raises(IntegrityError), transaction.atomic():
        ApplicationFactory.create(fund=fund, nir=" ".join(NIR))


def test_a_lookup_by_a_clear_value_on_an_encrypted_column_is_refused(db: None) -> None:
    ApplicationFactory.create(nir=NIR)

    with pytest.raises(ValueError, match="blind index"):
        list(Application.objects.filter(nir=NIR))
    with pytest.raises(Exception):  # noqa: B017, PT011 - no such lookup on the field
        list(Application.objects.filter(nir__startswith="1"))
    assert Application.objects.filter(nir_index=crypto.blind_index("nir", NIR)).count() == 1
    assert not Application.objects.filter(nir="").exists()


def test_drafts_notes_and_messages_are_encrypted(db: None) -> None:
    person = UserFactory.create()
    application = ApplicationFactory.create(applicant=person)
    draft = ApplicationDraft.objects.create(
        fund=application.fund,
        applicant=person,
        data={"identity": {"nir": NIR}},
    )
    flag = Flag.objects.create(
        application=application,
        fund=application.fund,
        code="by_hand",
        note="Dit vivre chez sa sœur depuis mars",
        raised_at=application.submitted_at,
    )

    assert NIR not in raw("applications_applicationdraft", "data", draft.pk)
    assert "sœur" not in raw("review_flag", "note", flag.pk)
    assert ApplicationDraft.objects.get(pk=draft.pk).data == {"identity": {"nir": NIR}}
    assert Flag.objects.get(pk=flag.pk).note == "Dit vivre chez sa sœur depuis mars"


def test_without_the_key_a_stored_value_cannot_be_read(db: None, keys: list[str]) -> None:
    application = ApplicationFactory.create(nir=NIR)

    with override_settings(ENTRAIDE_ENCRYPTION_KEYS=[keys[0]]):
        crypto.forget_keys()
        with pytest.raises(InvalidToken):
            Application.objects.get(pk=application.pk)


def test_rotation_rewrites_every_value_and_document_with_the_new_key(
    db: None, keys: list[str], tmp_path: Path, settings: object
) -> None:
    new, old = keys
    with override_settings(ENTRAIDE_ENCRYPTION_KEYS=[old]):
        crypto.forget_keys()
        application = ApplicationFactory.create(nir=NIR, iban=IBAN)
        (tmp_path / "scan.pdf").write_bytes(crypto.encrypt_bytes(b"%PDF-1.4 payslip"))
        before = raw("applications_application", "nir", application.pk)

    with override_settings(ENTRAIDE_ENCRYPTION_KEYS=[new, old], DOCUMENTS_DIR=tmp_path):
        crypto.forget_keys()
        assert rotate_all(dry_run=True).rotated >= 3
        assert raw("applications_application", "nir", application.pk) == before
        report = rotate_all()
        assert report.rotated >= 3
        assert not report.unreadable
        assert rotate_all().rotated == 0  # a second run finds nothing left

    with override_settings(ENTRAIDE_ENCRYPTION_KEYS=[new], DOCUMENTS_DIR=tmp_path):
        crypto.forget_keys()
        fresh = Application.objects.get(pk=application.pk)
        assert (fresh.nir, fresh.iban) == (NIR, IBAN)
        assert crypto.decrypt_bytes((tmp_path / "scan.pdf").read_bytes()) == b"%PDF-1.4 payslip"
        assert fresh.nir_index == application.nir_index  # the index key does not change


def test_the_rotate_command_fails_on_a_value_no_key_opens(db: None, keys: list[str]) -> None:
    with override_settings(ENTRAIDE_ENCRYPTION_KEYS=[keys[1]]):
        crypto.forget_keys()
        ApplicationFactory.create(nir=NIR)

    with override_settings(ENTRAIDE_ENCRYPTION_KEYS=[keys[0]]):
        crypto.forget_keys()
        with pytest.raises(Exception, match="open with no key"):
            call_command("keys", "rotate")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("FR7630006000011234567890189", "FR76 •••• 0189"),
        ("fr76 3000 6000 0112 3456 7890 189", "FR76 •••• 0189"),
        ("185057512345678", "•••• 5678"),
        ("AB1", "••••"),
        ("", ""),
    ],
)
def test_identifiers_are_masked_keeping_what_tells_them_apart(value: str, shown: str) -> None:
    assert mask_identifier(value) == shown


def test_rotation_rewrites_the_authenticator_apps_secrets(db: None, keys: list[str]) -> None:
    from allauth.mfa.models import Authenticator

    from entraide.accounts.mfa import enroll_totp, totp_secret

    new, old = keys
    with override_settings(ENTRAIDE_ENCRYPTION_KEYS=[old]):
        crypto.forget_keys()
        person = UserFactory.create()
        enroll_totp(person, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    with override_settings(ENTRAIDE_ENCRYPTION_KEYS=[new, old]):
        crypto.forget_keys()
        assert rotate_all().rotated >= 1
    with override_settings(ENTRAIDE_ENCRYPTION_KEYS=[new]):
        crypto.forget_keys()
        assert totp_secret(person) == "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
        stored = Authenticator.objects.get(user=person).data["secret"]
        assert "JBSWY3DP" not in stored
