"""A push subscriber with the Python SDK: it serves its endpoint, subscribes
to TAGA, TAGB and TAGC on the topic, verifies every delivery's signature and
processes each webhook-id once. Ctrl-C deletes the subscription.

    .cache/sdk/venv/bin/python examples/python/subscriber.py [stop-after-N]
"""

import os
import signal
import sys
import threading

import zeroloss
from zeroloss_client.api.subscriptions import create_subscription, delete_subscription
from zeroloss_client.models import SubscriptionInput

GATEWAY = os.environ.get("ZEROLOSS_URL", "http://localhost:8080")
API_KEY = os.environ.get("ZEROLOSS_API_KEY", "dev-secret-key")
TOPIC = os.environ.get("ZEROLOSS_TOPIC", "orders")
STOP_AFTER = int(sys.argv[1]) if len(sys.argv) > 1 else 0

done = threading.Event()
processed: list[str] = []


class Seen(set):
    """Processed webhook-ids. Keep them in your database, in the same
    transaction as the work, to stay idempotent across restarts."""


def on_delivery(d: zeroloss.Delivery) -> None:
    # Runs only for a valid signature and a webhook-id not processed yet.
    processed.append(d.webhook_id)
    print(f"{d.tag}: {d.body.decode(errors='replace')!r} (message {d.message_id}, attempt {d.attempt})", flush=True)
    if STOP_AFTER and len(processed) >= STOP_AFTER:
        done.set()


def main() -> int:
    client = zeroloss.connect(GATEWAY, API_KEY)
    secrets: list[str] = []
    endpoint = zeroloss.serve({"/events": zeroloss.delivery_app(secrets, on_delivery, seen=Seen())})
    sub = create_subscription.sync_detailed(
        client=client,
        body=SubscriptionInput(name="billing-example-py", topic=TOPIC, tag_filter="TAGA||TAGB||TAGC", endpoint=endpoint.url + "/events"),
    ).parsed
    secrets.append(sub.secret)
    print(f"subscription {sub.id} delivering to {endpoint.url}/events", flush=True)
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    finally:
        delete_subscription.sync_detailed(sub.id, client=client)
        endpoint.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
