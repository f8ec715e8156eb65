from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone
from django_tasks import default_task_backend

from entraide.applications.models import Application
from entraide.applications.signals import application_status_changed
from entraide.applications.tests.factories import ApplicationFactory
from entraide.intake import webhooks
from entraide.intake.models import WebhookDelivery
from entraide.intake.services import WEBHOOK_MAX_ATTEMPTS
from entraide.intake.tasks import deliver_webhook
from entraide.intake.tests.conftest import PartnerClient, application_body
from entraide.intake.tests.factories import PartnerFactory, WebhookDeliveryFactory

pytestmark = pytest.mark.django_db


class Receiver:
    """A partner's webhook endpoint on 127.0.0.1, answering the statuses it is told to."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/entraide"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def dummy_tasks(settings: Any) -> Any:
    """Tasks are only recorded, so a test sees each enqueue (and its run_after)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    default_task_backend.clear()
    return default_task_backend


def test_a_submission_through_the_api_notifies_the_partners_webhook(
    partner: PartnerClient, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    partner.token.partner.webhook_url = receiver.url
    partner.token.partner.save()
    with django_capture_on_commit_callbacks(execute=True):
        reference = partner.submit(application_body()).json()["reference"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.attempts == 1
    [(headers, body)] = receiver.received
    event = json.loads(body)
    assert event["event"] == "application.status_changed"
    assert event["reference"] == reference
    assert event["status"] == "received"
    assert dt.datetime.fromisoformat(event["occurred_at"]).tzinfo is not None
    assert headers["Content-Type"] == "application/json"
    secret = partner.token.partner.webhook_secret
    assert webhooks.verify(secret, headers["Entraide-Signature"], body)


def test_the_signature_is_an_hmac_of_the_time_and_body() -> None:
    expected = hmac.new(b"s3cret", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert webhooks.signature("s3cret", b'{"a":1}', 1_700_000_000) == (
        f"t=1700000000,v1={expected}"
    )


def test_a_forged_or_stale_signature_does_not_verify() -> None:
    body = b'{"status":"approved"}'
    now = int(timezone.now().timestamp())
    good = webhooks.signature("secret", body, now)
    assert webhooks.verify("secret", good, body)
    assert not webhooks.verify("other secret", good, body)
    assert not webhooks.verify("secret", good, b'{"status":"paid"}')
    assert not webhooks.verify("secret", webhooks.signature("secret", body, now - 3600), body)
    assert not webhooks.verify("secret", "v1=abc", body)


def test_a_status_change_of_a_portal_application_sends_nothing(receiver: Receiver) -> None:
    PartnerFactory(webhook_url=receiver.url)
    application = ApplicationFactory()
    application_status_changed.send(
        sender=Application, application_id=application.pk, status="approved", partner=None
    )
    assert not WebhookDelivery.objects.exists()
    assert receiver.received == []


def test_a_partner_without_webhook_gets_no_delivery() -> None:
    partner = PartnerFactory(webhook_url="")
    application = ApplicationFactory(partner=partner, applicant=None)
    application_status_changed.send(
        sender=Application, application_id=application.pk, status="approved", partner=partner
    )
    assert not WebhookDelivery.objects.exists()


def test_a_failed_delivery_is_retried_later_with_a_growing_delay(
    receiver: Receiver, dummy_tasks: Any
) -> None:
    delivery = WebhookDeliveryFactory(partner__webhook_url=receiver.url)
    receiver.statuses = [500, 503]
    before = timezone.now()
    deliver_webhook.call(delivery.pk)
    deliver_webhook.call(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert delivery.attempts == 2
    assert delivery.last_error == "HTTP 503"
    first, second = (result.task.run_after for result in dummy_tasks.results)
    assert first is not None
    assert second is not None
    assert dt.timedelta(seconds=25) < first - before < dt.timedelta(seconds=40)
    assert dt.timedelta(seconds=55) < second - before < dt.timedelta(seconds=70)
    deliver_webhook.call(delivery.pk)  # the receiver is back
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert len(dummy_tasks.results) == 2
    assert len(receiver.received) == 3


def test_a_delivered_event_is_not_sent_again(receiver: Receiver, dummy_tasks: Any) -> None:
    delivery = WebhookDeliveryFactory(partner__webhook_url=receiver.url)
    deliver_webhook.call(delivery.pk)
    deliver_webhook.call(delivery.pk)
    assert len(receiver.received) == 1
    assert dummy_tasks.results == []


def test_after_the_last_attempt_the_delivery_fails_for_good(
    receiver: Receiver, dummy_tasks: Any
) -> None:
    delivery = WebhookDeliveryFactory(
        partner__webhook_url=receiver.url, attempts=WEBHOOK_MAX_ATTEMPTS - 1
    )
    receiver.statuses = [500]
    deliver_webhook.call(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert dummy_tasks.results == []


def test_an_unreachable_webhook_counts_as_a_failed_attempt(dummy_tasks: Any) -> None:
    # Port 9 (discard) on the loopback: nothing listens there.
    delivery = WebhookDeliveryFactory(partner__webhook_url="http://127.0.0.1:9/hook")
    deliver_webhook.call(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert "ConnectionRefused" in delivery.last_error or "URLError" in delivery.last_error
    assert len(dummy_tasks.results) == 1


def test_a_redirect_is_not_followed(receiver: Receiver, dummy_tasks: Any) -> None:
    delivery = WebhookDeliveryFactory(partner__webhook_url=receiver.url)
    receiver.statuses = [307]
    deliver_webhook.call(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert delivery.last_error == "HTTP 307"


def test_a_failure_to_queue_is_logged_not_raised_into_the_committed_action(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr("entraide.intake.services.queue_status_webhook", broken)
    application_status_changed.send(
        sender=Application,
        application_id=1,
        status="approved",
        partner=PartnerFactory(webhook_url="http://127.0.0.1:9/hook"),
    )
    assert "could not queue the webhook of application 1" in caplog.text
