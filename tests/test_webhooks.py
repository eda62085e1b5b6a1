"""Webhooks: each event POSTed, signed, to a real HTTP server on this machine; retried with backoff,
disabled after a day of failures with an e-mail; never to a private address unless the operator
allows it; each owner's events only; a test event on demand."""

import hashlib
import hmac
import ipaddress
import json
import queue
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from alarms.models import Alarm
from integrations import delivery
from integrations.models import Event, Webhook, WebhookDelivery
from integrations.services import (
    webhook_create,
    webhook_delivery_attempt,
    webhook_enable,
    webhooks_queue,
)
from integrations.tasks import dispatch_webhooks

from .conftest import login, make_plant, text
from .factories import InverterFactory


class Receiver:
    """An HTTP server on 127.0.0.1 that answers the statuses it is given (200 when none is left) and
    keeps what it received."""

    def __init__(self):
        self.received = []
        self.answers = queue.SimpleQueue()
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": dict(self.headers), "body": body, "path": self.path})
                time.sleep(receiver.delay)
                status, location = 200, None
                if not receiver.answers.empty():
                    status, location = receiver.answers.get()
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/aura?src=portal"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, *statuses, location=None):
        for status in statuses:
            self.answers.put((status, location))

    def events(self):
        return [json.loads(r["body"]) for r in self.received]


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = [ipaddress.ip_network("127.0.0.0/8")]
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def inverter(plant):
    return InverterFactory(datalogger__plant=plant)


def open_alarm(inverter, code="F13"):
    return Alarm.objects.create(
        plant=inverter.datalogger.plant, datalogger=inverter.datalogger, inverter=inverter, code_id=code,
        started_at=timezone.now(),
    )  # fmt: skip


def verified(request, secret):
    """The body, if the signature holds (computed here, as a receiver would)."""
    fields = dict(part.split("=", 1) for part in request["headers"]["AURA-Signature"].split(","))
    expected = hmac.new(secret.encode(), fields["t"].encode() + b"." + request["body"], hashlib.sha256)
    assert hmac.compare_digest(fields["v1"], expected.hexdigest())
    assert abs(int(fields["t"]) - time.time()) < 300
    return json.loads(request["body"])


def test_the_signature_is_the_documented_hmac():
    # printf '1700000000.{"id":1}' | openssl dgst -sha256 -hmac whsec_test
    assert delivery.signature(secret="whsec_test", timestamp=1700000000, body=b'{"id":1}') == (
        "t=1700000000,v1=2f441ba4b3b2d50d28a9ab9d9fd8880376ecd1eb5d0435401553f5d8d0a5dcf8"
    )


def test_an_alarm_opened_is_posted_signed_and_logged(installer, inverter, receiver):
    hook = webhook_create(user=installer, name="Tickets", url=receiver.url)
    alarm = open_alarm(inverter)
    dispatch_webhooks()
    (request,) = receiver.received
    event = verified(request, hook.secret)
    assert request["path"] == "/hooks/aura?src=portal"
    assert request["headers"]["AURA-Event"] == "alarm.opened"
    assert event["kind"] == "alarm.opened" and event["data"]["code"] == "F13"
    assert event["data"]["alarm"] == alarm.pk and event["plant"] == inverter.datalogger.plant_id
    assert event["id"] == Event.objects.get(kind="alarm.opened").number
    sent = WebhookDelivery.objects.get()
    assert sent.delivered_at and sent.status_code == 200 and sent.duration_ms is not None
    dispatch_webhooks()
    assert len(receiver.received) == 1  # delivered once


def test_a_new_webhook_carries_only_what_happens_after_it_is_made(installer, inverter, receiver):
    open_alarm(inverter, "F01")
    webhook_create(user=installer, name="Tickets", url=receiver.url)
    open_alarm(inverter, "F13")
    dispatch_webhooks()
    assert [e["data"]["code"] for e in receiver.events()] == ["F13"]


def test_a_failed_delivery_is_tried_again_later_then_delivered(installer, inverter, receiver):
    webhook_create(user=installer, name="Tickets", url=receiver.url)
    receiver.answer(500)
    open_alarm(inverter)
    webhooks_queue()
    pk = WebhookDelivery.objects.get().pk
    now = timezone.now()
    failed = webhook_delivery_attempt(delivery_id=pk, now=now)
    assert failed.status_code == 500 and failed.delivered_at is None
    assert failed.next_attempt_at == now + timedelta(seconds=30) and "500" in str(failed.error)
    assert webhook_delivery_attempt(delivery_id=pk, now=now + timedelta(seconds=10)) is None  # not yet
    sent = webhook_delivery_attempt(delivery_id=pk, now=now + timedelta(seconds=30))
    assert sent.delivered_at and sent.status_code == 200 and sent.attempts == 2 and sent.error is None
    first, second = receiver.received
    assert first["body"] == second["body"]  # the same event, the same id: a receiver can skip it


def test_backoff_doubles_up_to_six_hours_and_gives_up_after_the_last_attempt(
    installer, inverter, receiver, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 12
    settings.WEBHOOK_DISABLE_AFTER_HOURS = 1000
    hook = webhook_create(user=installer, name="Tickets", url=receiver.url)
    open_alarm(inverter)
    webhooks_queue()
    pk = WebhookDelivery.objects.get().pk
    receiver.answer(*[503] * 12)
    waits = []
    for _ in range(12):
        sent = WebhookDelivery.objects.get(pk=pk)
        at = sent.next_attempt_at
        sent = webhook_delivery_attempt(delivery_id=pk, now=at)
        if sent.next_attempt_at:
            waits.append(sent.next_attempt_at - at)
    minutes = [round(wait.total_seconds() / 60, 1) for wait in waits]
    assert minutes == [0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 360]
    assert sent.given_up and sent.attempts == 12 and len(receiver.received) == 12
    hook.refresh_from_db()
    assert hook.enabled and hook.failures == 12


def test_a_webhook_failing_for_a_day_is_disabled_and_its_company_told(
    installer, inverter, receiver, company, django_capture_on_commit_callbacks
):
    hook = webhook_create(user=installer, name="Tickets", url=receiver.url)
    receiver.answer(500, 500)
    open_alarm(inverter)
    webhooks_queue()
    pk = WebhookDelivery.objects.get().pk
    now = timezone.now()
    webhook_delivery_attempt(delivery_id=pk, now=now)
    WebhookDelivery.objects.filter(pk=pk).update(next_attempt_at=now + timedelta(hours=24))
    with django_capture_on_commit_callbacks(execute=True):
        webhook_delivery_attempt(delivery_id=pk, now=now + timedelta(hours=24))
    hook.refresh_from_db()
    assert not hook.enabled and hook.disabled_at == now + timedelta(hours=24)
    assert sorted(m.to[0] for m in mail.outbox) == sorted({company.email, installer.email})
    assert "Tickets" in mail.outbox[0].subject and reverse("webhook", args=[hook.pk]) in mail.outbox[0].body
    # Disabled: nothing is sent, the events wait; enabled again, they go.
    open_alarm(inverter, "F01")
    dispatch_webhooks()
    assert len(receiver.received) == 2
    webhook_enable(webhook=hook, enabled=True)
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    dispatch_webhooks()
    assert sorted(e["data"]["code"] for e in receiver.events()[2:]) == ["F01", "F13"]


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000/", "http://10.1.2.3/x", "http://[::1]/", "http://localhost/", "http://169.254.169.254/",
     "ftp://example.org/", "http://name.invalid/"],
)  # fmt: skip
def test_a_private_or_unresolvable_target_is_refused_with_its_reason(installer, url):
    with pytest.raises(ValidationError) as refused:
        webhook_create(user=installer, name="Internal", url=url)
    assert "url" in refused.value.message_dict
    response = login(installer).post(reverse("webhooks"), {"name": "Internal", "url": url})
    assert response.status_code == 200 and not Webhook.objects.exists()
    assert "field-error" in text(response)


def test_a_target_that_became_private_is_not_called(installer, inverter, receiver, settings):
    webhook_create(user=installer, name="Tickets", url=receiver.url)
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    open_alarm(inverter)
    dispatch_webhooks()
    assert receiver.received == []
    sent = WebhookDelivery.objects.get()
    assert sent.status_code is None and "privée" in str(sent.error) and sent.next_attempt_at


def test_a_redirect_is_not_followed(installer, inverter, receiver):
    webhook_create(user=installer, name="Tickets", url=receiver.url)
    receiver.answer(307, location="http://10.0.0.1/steal")
    open_alarm(inverter)
    dispatch_webhooks()
    sent = WebhookDelivery.objects.get()
    assert sent.status_code == 307 and sent.delivered_at is None and len(receiver.received) == 1


def test_a_target_slower_than_the_timeout_is_a_failure_tried_again(installer, inverter, receiver):
    webhook_create(user=installer, name="Tickets", url=receiver.url)
    receiver.delay = 1.5
    open_alarm(inverter)
    dispatch_webhooks()
    sent = WebhookDelivery.objects.get()
    assert sent.status_code is None and "1 s" in str(sent.error) and sent.next_attempt_at


def test_a_delivery_held_by_a_worker_that_died_is_sent_after_its_lease(installer, inverter, receiver):
    webhook_create(user=installer, name="Tickets", url=receiver.url)
    open_alarm(inverter)
    webhooks_queue()
    now = timezone.now()
    # What a worker does before sending; then it dies.
    WebhookDelivery.objects.update(next_attempt_at=now + timedelta(seconds=32))
    assert webhook_delivery_attempt(delivery_id=WebhookDelivery.objects.get().pk, now=now) is None
    sent = webhook_delivery_attempt(
        delivery_id=WebhookDelivery.objects.get().pk, now=now + timedelta(seconds=32)
    )
    assert sent.delivered_at and len(receiver.received) == 1


def test_each_owner_receives_only_their_own_events(
    installer, customer, granted_plant, company, other_company, stranger, receiver
):
    mine = InverterFactory(datalogger__plant=granted_plant)
    neighbour = InverterFactory(datalogger__plant=make_plant(company, name="Voisin"))
    elsewhere = InverterFactory(datalogger__plant=make_plant(other_company, name="Ailleurs"))
    hooks = {
        user: webhook_create(user=user, name=user.username, url=f"{receiver.url}&for={user.username}")
        for user in (installer, customer, stranger)
    }
    for inverter in (mine, neighbour, elsewhere):
        alarm = open_alarm(inverter)
        alarm.acknowledged_at = timezone.now()
        alarm.save(update_fields=["acknowledged_at"])
    dispatch_webhooks()
    received = {}
    for request in receiver.received:
        user = request["path"].rpartition("=")[2]
        event = verified(request, hooks[next(u for u in hooks if u.username == user)].secret)
        received.setdefault(user, []).append((event["kind"], event["plant"]))
    assert sorted(received[installer.username]) == sorted(
        [
            (kind, p)
            for p in (granted_plant.pk, neighbour.datalogger.plant_id)
            for kind in ("alarm.opened", "alarm.acknowledged")
        ]
    )
    assert received[customer.username] == [("alarm.opened", granted_plant.pk)]  # no installer's work
    assert sorted(received[stranger.username]) == [
        ("alarm.acknowledged", elsewhere.datalogger.plant_id),
        ("alarm.opened", elsewhere.datalogger.plant_id),
    ]


def test_a_customer_cannot_ask_for_events_their_pages_do_not_show(customer, receiver):
    with pytest.raises(ValidationError) as refused:
        webhook_create(user=customer, name="x", url=receiver.url, kinds=["inverter.replaced"])
    assert "kinds" in refused.value.message_dict


def test_only_the_chosen_kinds_are_sent(installer, inverter, receiver):
    webhook_create(user=installer, name="Faults", url=receiver.url, kinds=["alarm.cleared"])
    alarm = open_alarm(inverter)
    Alarm.objects.filter(pk=alarm.pk).clear(timezone.now())
    dispatch_webhooks()
    assert [e["kind"] for e in receiver.events()] == ["alarm.cleared"]


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_queue_each_event_once(installer, inverter, receiver):
    webhook_create(user=installer, name="Tickets", url=receiver.url)
    for _ in range(40):
        now = timezone.now()
        Alarm.objects.create(
            plant=inverter.datalogger.plant,
            datalogger=inverter.datalogger,
            code_id="COM",
            started_at=now,
            cleared_at=now,
        )
    start = threading.Barrier(3)

    def dispatcher():
        start.wait()
        webhooks_queue(limit=7)
        webhooks_queue(limit=7)
        connection.close()

    threads = [threading.Thread(target=dispatcher) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    while webhooks_queue():
        pass
    numbers = list(WebhookDelivery.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == Event.objects.filter(kind="alarm.opened").count() == 40


def test_the_test_button_sends_a_ping_and_says_what_came_back(installer, receiver):
    hook = webhook_create(user=installer, name="Tickets", url=receiver.url)
    client = login(installer)
    response = client.post(reverse("webhook_test", args=[hook.pk]), follow=True)
    assert "HTTP 200" in text(response)
    (request,) = receiver.received
    assert verified(request, hook.secret)["kind"] == "ping"
    receiver.answer(404)
    response = client.post(reverse("webhook_test", args=[hook.pk]), follow=True)
    page = text(response)
    assert "404" in page and page.count("ping") >= 2  # both in the delivery log
    hook.refresh_from_db()
    assert hook.failures == 0  # a test is not a delivery


def test_the_pages_make_and_show_a_webhook(installer, receiver):
    client = login(installer)
    response = client.post(
        reverse("webhooks"), {"name": "Tickets", "url": receiver.url, "kinds": ["alarm.opened"]}
    )
    hook = Webhook.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("webhook", args=[hook.pk])
    assert hook.company_id == installer.company_id and hook.kinds == ["alarm.opened"]
    page = text(client.get(response["Location"]))
    assert hook.secret in page
    client.post(reverse("webhook_enable", args=[hook.pk]), {"enabled": "0"})
    hook.refresh_from_db()
    assert not hook.enabled
    client.post(reverse("webhook_delete", args=[hook.pk]))
    assert not Webhook.objects.exists()


def test_nobody_else_reaches_a_webhook(installer, colleague, stranger, customer, admin_user, receiver):
    hook = webhook_create(user=installer, name="Tickets", url=receiver.url)
    # The same company: theirs too (roles will narrow it).
    assert login(colleague).get(reverse("webhook", args=[hook.pk])).status_code == 200
    for outsider in (stranger, customer):
        client = login(outsider)
        assert client.get(reverse("webhook", args=[hook.pk])).status_code == 404
        assert client.post(reverse("webhook_delete", args=[hook.pk])).status_code == 404
        assert hook.secret not in text(client.get(reverse("webhooks")))
    assert login(admin_user).get(reverse("webhooks")).status_code == 403
    assert Webhook.objects.filter(pk=hook.pk, enabled=True).exists()
