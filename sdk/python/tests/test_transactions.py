"""The seed scenario: three half messages, commit A, roll back B, C answered by a check webhook served here."""

import threading

from conftest import eventually
from zeroloss_client.api.transactions import (
    begin_transaction,
    commit_transaction,
    create_producer,
    delete_producer,
    get_transaction,
    rollback_transaction,
)
from zeroloss_client.models import BeginTransactionRequest, ProducerInput, Transaction

import zeroloss


def test_check_back_answered_by_python_webhook(client, topic, run_id):
    checks: list[tuple[str, str, int]] = []
    lock = threading.Lock()
    pending_commit: set[str] = set()  # the local transactions that committed

    def decide(check, webhook_id):
        with lock:
            checks.append((check.transaction_id, webhook_id, check.check_count))
            return "commit" if check.transaction_id in pending_commit else "unknown"

    # The secret is known only once the producer exists: the app reads the list at each call.
    secrets: list[str] = []
    served = zeroloss.serve({"/tx-check": zeroloss.check_app(secrets, decide)})
    try:
        p = create_producer.sync_detailed(
            client=client, body=ProducerInput(name=f"orders-{run_id}", check_url=served.url + "/tx-check", timeout_ms=2000)
        )
        assert p.status_code == 201, p.content
        assert p.parsed.secret.startswith("whsec_") and p.headers.get("Location")
        secrets.append(p.parsed.secret)

        txs: dict[str, Transaction] = {}
        for tag in ("TAGA", "TAGB", "TAGC"):
            r = zeroloss.with_idempotency_key(
                lambda key: begin_transaction.sync_detailed(
                    client=client,
                    body=BeginTransactionRequest(producer=p.parsed.id, topic=topic, body=f"order {run_id} {tag}", tag=tag, keys=[run_id]),
                    idempotency_key=key,
                )
            )
            assert r.status_code == 201, r.content
            assert r.parsed.state == "pending"
            txs[tag] = r.parsed

        a = commit_transaction.sync_detailed(txs["TAGA"].transaction_id, client=client)
        assert a.status_code == 200 and a.parsed.state == "committed" and a.parsed.decided_by == "api"
        b = rollback_transaction.sync_detailed(txs["TAGB"].transaction_id, client=client)
        assert b.status_code == 200 and b.parsed.state == "rolled_back" and b.parsed.decided_by == "api"

        c_id = txs["TAGC"].transaction_id
        with lock:
            pending_commit.add(c_id)

        def c_committed():
            t = get_transaction.sync_detailed(c_id, client=client).parsed
            return t if t.state == "committed" else None

        c = eventually("C committed by the check-back", 60, c_committed)
        assert c.decided_by == "check"
        assert c.check_count >= 1
        with lock:
            calls_c = [x for x in checks if x[0] == c_id]
        # decide ran only for signed calls, and at least once for C.
        assert calls_c and all(wid for _, wid, _ in calls_c)
        # A and B stay as the API decided them.
        assert get_transaction.sync_detailed(txs["TAGA"].transaction_id, client=client).parsed.state == "committed"
        assert get_transaction.sync_detailed(txs["TAGB"].transaction_id, client=client).parsed.state == "rolled_back"
    finally:
        served.close()
        if "p" in locals() and p.status_code == 201:
            delete_producer.sync_detailed(p.parsed.id, client=client)


def test_check_handler_refuses_a_bad_signature():
    status, body = zeroloss.handle_check(
        "whsec_" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        {"webhook-id": "msg_1", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA"},
        b'{"transactionId":"tx_1"}',
        lambda c, w: "commit",
    )
    assert (status, body) == (401, {"decision": "unknown"})
