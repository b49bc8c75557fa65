"""A push subscription delivering to a receiver served here: signatures verified, idempotent by webhook-id."""

import base64
import threading

import httpx
from conftest import eventually
from zeroloss_client.api.messages import publish_message
from zeroloss_client.api.subscriptions import create_subscription, delete_subscription
from zeroloss_client.models import Encoding, PublishMessageRequest, SubscriptionInput

import zeroloss


def test_push_delivery_verified_and_idempotent(client, topic, run_id):
    got: list[zeroloss.Delivery] = []
    lock = threading.Lock()

    def on_delivery(d: zeroloss.Delivery) -> None:
        with lock:
            got.append(d)

    secrets: list[str] = []
    served = zeroloss.serve({"/events": zeroloss.delivery_app(secrets, on_delivery)})
    sub = None
    try:
        sub = create_subscription.sync_detailed(
            client=client,
            body=SubscriptionInput(name=f"billing-{run_id}", topic=topic, tag_filter=run_id, endpoint=served.url + "/events", max_attempts=3),
        )
        assert sub.status_code == 201, sub.content
        secrets.append(sub.parsed.secret)

        binary = bytes([0xFF, 0xFE, 0x00, 0x80, 0x7F])  # not UTF-8: verified over the bytes
        sent = {}
        for body, encoding in ((f"paid {run_id}".encode(), Encoding.UTF8), (binary, Encoding.BASE64)):
            text = body.decode() if encoding == Encoding.UTF8 else base64.b64encode(body).decode()
            r = publish_message.sync_detailed(
                topic, client=client, body=PublishMessageRequest(body=text, encoding=encoding, tag=run_id, keys=[run_id])
            )
            assert r.status_code == 201, r.content
            sent[r.parsed.message_id] = body

        def all_delivered():
            with lock:
                ids = {d.message_id for d in got}
            return set(sent) <= ids

        eventually("both messages delivered", 90, all_delivered)
        with lock:
            mine = [d for d in got if d.message_id in sent]
        for d in mine:
            assert d.body == sent[d.message_id]
            assert d.tag == run_id and d.keys == [run_id]
            assert d.source == f"/zeroloss/topics/{topic}"
            assert d.webhook_id == d.message_id  # dedup by message id (the default)

        # The same delivery again (a gateway retry after a lost answer):
        # answered 200, not processed twice.
        d = mine[0]
        headers = {k: v for k, v in d.headers.items() if k not in ("host", "content-length")}
        replay = httpx.post(served.url + "/events", content=d.body, headers=headers)
        assert replay.status_code == 200
        with lock:
            assert sum(1 for x in got if x.webhook_id == d.webhook_id) == 1

        # A forged signature is refused.
        forged = dict(headers, **{"webhook-signature": "v1," + base64.b64encode(b"x" * 32).decode(), "webhook-id": "forged"})
        assert httpx.post(served.url + "/events", content=d.body, headers=forged).status_code == 401
    finally:
        if sub is not None and sub.status_code == 201:
            delete_subscription.sync_detailed(sub.parsed.id, client=client)
        served.close()


def test_verify_webhook_matches_the_gateway_signature_scheme():
    # Signed as the gateway's webhook.Sign does (the e2e test above checks real gateway signatures).
    import hashlib
    import hmac
    import time

    key = b"0123456789abcdef0123456789abcdef"
    secret = "whsec_" + base64.b64encode(key).decode()
    ts = str(int(time.time()))
    for body in (b'{"a":1}', bytes([0xFF, 0x00, 0x80]), "\ufeffbom".encode()):
        sig = "v1," + base64.b64encode(hmac.new(key, b"msg_1." + ts.encode() + b"." + body, hashlib.sha256).digest()).decode()
        headers = {"Webhook-Id": "msg_1", "Webhook-Timestamp": ts, "Webhook-Signature": "v1,AAAA " + sig}
        zeroloss.verify_webhook(["whsec_" + base64.b64encode(b"old-secret-old-secret").decode(), secret], body, headers)
        try:
            zeroloss.verify_webhook(secret, body + b"x", headers)
        except zeroloss.WebhookVerificationError:
            pass
        else:
            raise AssertionError("a changed body verified")
