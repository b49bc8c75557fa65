"""Sends and Idempotency-Key replays through the generated client."""

from zeroloss_client.api.messages import publish_batch, publish_message
from zeroloss_client.models import BatchMessage, PublishBatchRequest, PublishedBatch, PublishedMessage, PublishMessageRequest

import zeroloss


def test_send(client, topic, run_id):
    r = zeroloss.with_idempotency_key(
        lambda key: publish_message.sync_detailed(
            topic, client=client, body=PublishMessageRequest(body="hello from python", tag=run_id, keys=[run_id]), idempotency_key=key
        )
    )
    assert r.status_code == 201, r.content
    assert isinstance(r.parsed, PublishedMessage)
    assert r.parsed.topic == topic
    assert len(r.parsed.message_id) >= 16
    assert r.parsed.queue_offset >= 0
    assert "Idempotent-Replayed" not in r.headers


def test_batch_with_idempotency_key_replays(client, topic, run_id):
    key = zeroloss.new_idempotency_key()
    batch = PublishBatchRequest(messages=[BatchMessage(body=f"{run_id}-{i}", tag=run_id) for i in range(3)])

    first = zeroloss.with_idempotency_key(
        lambda k: publish_batch.sync_detailed(topic, client=client, body=batch, idempotency_key=k), idempotency_key=key
    )
    assert first.status_code == 201, first.content
    assert isinstance(first.parsed, PublishedBatch)
    assert "Idempotent-Replayed" not in first.headers
    ids = [item.message_id for item in first.parsed.items]
    assert len(ids) == 3 and len(set(ids)) == 3

    again = publish_batch.sync_detailed(topic, client=client, body=batch, idempotency_key=key)
    assert again.status_code == 201, again.content
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert [item.message_id for item in again.parsed.items] == ids
    assert again.parsed.queue_id == first.parsed.queue_id

    # The same key with another payload is refused, nothing is sent.
    other = PublishBatchRequest(messages=[BatchMessage(body="something else")])
    mismatch = publish_batch.sync_detailed(topic, client=client, body=other, idempotency_key=key)
    assert mismatch.status_code == 422
    assert mismatch.parsed.type_ == "https://zeroloss.dev/problems/idempotency-key-mismatch"


def test_with_idempotency_key_retries_503_and_409_with_the_same_key():
    from http import HTTPStatus

    import httpx
    from zeroloss_client.types import Response

    keys, waits = [], []
    answers = [503, 409, 201]

    def call(key):
        keys.append(key)
        status = answers.pop(0)
        if status == 409 and len(keys) == 2:
            # A lost answer is retried too.
            answers.insert(0, status)
            raise httpx.ConnectError("connection reset")
        return Response(status_code=HTTPStatus(status), content=b"", headers=httpx.Headers({"Retry-After": "2"}), parsed=None)

    r = zeroloss.with_idempotency_key(call, sleep=waits.append)
    assert r.status_code == 201
    assert len(keys) == 4 and len(set(keys)) == 1
    assert waits == [2.0, 0.4, 2.0]  # Retry-After, backoff after the network error, Retry-After
