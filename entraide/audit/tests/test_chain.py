from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from entraide.accounts.tests.factories import UserFactory
from entraide.audit import services as audit
from entraide.audit.models import AppendOnlyError, AuditEvent
from entraide.audit.verify import verify_chain
from entraide.funds.tests.factories import FundFactory

pytestmark = pytest.mark.django_db


def record_events(count: int) -> list[AuditEvent]:
    actor = UserFactory()
    fund = FundFactory()
    events = []
    for index in range(count):
        with transaction.atomic():
            events.append(
                audit.record(
                    actor=actor,
                    action="fund.changed",
                    obj=fund,
                    changes={"budget": {"before": str(index), "after": str(index + 1)}},
                    fund_id=fund.pk,
                )
            )
    return events


@contextmanager
def triggers_disabled() -> Iterator[None]:
    """What an attacker with database access would do first; undone by the test's rollback."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER audit_event_no_update")
            cursor.execute("DROP TRIGGER audit_event_no_delete")
        else:
            cursor.execute("SET LOCAL session_replication_role = replica")
    yield


def raw(sql: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_each_event_links_to_the_previous_one() -> None:
    first, second, third = record_events(3)
    assert [e.sequence for e in (first, second, third)] == [1, 2, 3]
    assert second.previous_hash == first.hash
    assert third.previous_hash == second.hash
    report = verify_chain()
    assert report.ok
    assert report.events_checked == 3


def test_altered_event_is_detected() -> None:
    events = record_events(4)
    with triggers_disabled():
        raw(
            "UPDATE audit_auditevent SET changes = %s WHERE id = %s",
            ['{"budget": {"before": "0", "after": "999999"}}', events[1].pk],
        )
    report = verify_chain()
    assert not report.ok
    assert [p.sequence for p in report.problems] == [2]


def test_deleted_event_is_detected() -> None:
    events = record_events(4)
    with triggers_disabled():
        raw("DELETE FROM audit_auditevent WHERE id = %s", [events[2].pk])
    report = verify_chain()
    assert not report.ok
    assert report.problems[0].sequence == 4


def test_deleting_the_last_events_is_detected_through_the_chain_head() -> None:
    events = record_events(3)
    with triggers_disabled():
        raw("DELETE FROM audit_auditevent WHERE id = %s", [events[-1].pk])
    report = verify_chain()
    assert not report.ok
    # Nothing is wrong with the events left; the head still records the deleted third one.
    assert [p.sequence for p in report.problems] == [3]


def test_a_missing_chain_head_is_detected() -> None:
    record_events(2)
    with triggers_disabled():
        raw("DELETE FROM audit_auditchainhead WHERE id = %s", [1])
    assert not verify_chain().ok


def test_database_refuses_to_update_or_delete_events() -> None:
    (event,) = record_events(1)
    for sql in (
        "UPDATE audit_auditevent SET action = 'x' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            raw(sql, [event.pk])


def test_postgresql_refuses_to_truncate_events() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    record_events(1)
    with pytest.raises(DatabaseError), transaction.atomic():
        raw("TRUNCATE audit_auditevent", [])


def test_the_model_refuses_to_change_or_delete_an_event() -> None:
    (event,) = record_events(1)
    event.action = "something.else"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_recording_outside_a_transaction_is_refused(transactional_db: None) -> None:
    fund = FundFactory()
    with pytest.raises(RuntimeError):
        audit.record(actor=None, action="fund.changed", obj=fund)


def test_identifiers_are_masked_in_event_bodies() -> None:
    assert audit.mask("nir", "185037512345672") == "•••• 5672"
    assert audit.mask("iban", "FR7630006000011234567890189") == "FR76 •••• 0189"
    assert audit.mask("password", "hunter2hunter2") == "••••"
    assert audit.mask("name", "Camille") == "Camille"


def test_verify_command_reports_ok_and_fails_on_tampering(
    capsys: pytest.CaptureFixture[str],
) -> None:
    events = record_events(2)
    call_command("audit", "verify")
    assert '"ok": true' in capsys.readouterr().out
    with triggers_disabled():
        raw("UPDATE audit_auditevent SET actor_label = %s WHERE id = %s", ["someone", events[0].pk])
    with pytest.raises(CommandError, match="BROKEN"):
        call_command("audit", "verify")


def test_what_names_or_describes_a_person_is_kept_as_a_keyed_digest_only() -> None:
    changes = {
        "first_name": {"before": None, "after": "Camille"},
        "note": "Lives with her sister since March",
        "status": {"before": "received", "after": "approved"},
        "amount": 900,
    }

    kept = audit._pseudonymised(changes)

    assert kept["first_name"] == {"before": None, "after": audit.pseudonym("Camille")}
    assert kept["note"] == audit.pseudonym("Lives with her sister since March")
    assert kept["status"] == changes["status"]
    assert kept["amount"] == 900
    assert audit.pseudonym("Camille").startswith("hmac:")
    assert audit.pseudonym("Camille") != audit.pseudonym("Camilla")
    assert "Camille" not in str(kept)
    assert "sister" not in str(kept)
