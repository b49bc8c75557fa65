"""A pull subscription: receive (long poll), ack, nack with a delay, and a per-handle problem."""

from conftest import eventually
from zeroloss_client.api.messages import publish_message
from zeroloss_client.api.subscriptions import (
    ack_messages,
    create_subscription,
    delete_subscription,
    nack_messages,
    receive_messages,
)
from zeroloss_client.models import (
    AckRequest,
    Encoding,
    NackRequest,
    PublishMessageRequest,
    ReceiveRequest,
    SubscriptionInput,
    SubscriptionMode,
)


def test_pull_receive_ack_nack(client, topic, run_id):
    sub = create_subscription.sync_detailed(
        client=client,
        body=SubscriptionInput(name=f"pull-{run_id}", topic=topic, tag_filter=run_id, mode=SubscriptionMode.PULL, max_attempts=5),
    )
    assert sub.status_code == 201, sub.content
    assert sub.parsed.mode == SubscriptionMode.PULL and not sub.parsed.endpoint
    sub_id = sub.parsed.id
    try:
        sent = {}
        for body in (f"keep {run_id}", f"again {run_id}"):
            r = publish_message.sync_detailed(topic, client=client, body=PublishMessageRequest(body=body, tag=run_id, keys=[run_id]))
            assert r.status_code == 201, r.content
            sent[r.parsed.message_id] = body

        got = {}

        def receive_all():
            # waitSeconds stays below the client's 5 s default timeout.
            r = receive_messages.sync_detailed(sub_id, client=client, body=ReceiveRequest(max_messages=10, wait_seconds=2, invisible_seconds=60))
            assert r.status_code == 200, r.content
            for m in r.parsed.messages:
                got[m.message_id] = m
            return set(sent) <= set(got)

        eventually("both messages received", 60, receive_all)
        for mid, m in got.items():
            assert m.body == sent[mid] and m.encoding == Encoding.UTF8
            assert m.tag == run_id and m.keys == [run_id] and m.attempt == 1
        keep, again = (next(m for m in got.values() if m.body.startswith(p)) for p in ("keep", "again"))

        acked = ack_messages.sync_detailed(sub_id, client=client, body=AckRequest(receipt_handles=[keep.receipt_handle, "garbage"]))
        assert acked.status_code == 200, acked.content
        ok, bad = acked.parsed.results
        assert ok.ok and ok.receipt_handle == keep.receipt_handle
        assert not bad.ok and bad.problem.type_ == "https://zeroloss.dev/problems/receipt-handle-invalid"

        nacked = nack_messages.sync_detailed(sub_id, client=client, body=NackRequest(receipt_handles=[again.receipt_handle], delay_seconds=1))
        assert nacked.status_code == 200 and nacked.parsed.results[0].ok, nacked.content

        def redelivered():
            r = receive_messages.sync_detailed(sub_id, client=client, body=ReceiveRequest(wait_seconds=2))
            return next((m for m in r.parsed.messages if m.message_id == again.message_id), None)

        back = eventually("the nacked message back", 60, redelivered)
        assert back.attempt == 2 and back.receipt_handle != again.receipt_handle
        r = ack_messages.sync_detailed(sub_id, client=client, body=AckRequest(receipt_handles=[back.receipt_handle]))
        assert r.parsed.results[0].ok

        # Acked messages do not come back.
        r = receive_messages.sync_detailed(sub_id, client=client, body=ReceiveRequest(wait_seconds=2))
        assert r.parsed.messages == []
    finally:
        delete_subscription.sync_detailed(sub_id, client=client)
