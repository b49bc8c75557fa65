"""The seed scenario with the Python SDK: three half messages tagged TAGA, TAGB
and TAGC; commit A, roll back B, leave C undecided and let the check-back,
answered by the webhook this script serves, commit it.

    make dev                           # in another terminal
    make sdk-deps                      # once: the virtualenv with the SDK
    .cache/sdk/venv/bin/python examples/python/transactions.py
"""

import os
import sys
import time

import zeroloss
from zeroloss_client.api.transactions import (
    begin_transaction,
    commit_transaction,
    create_producer,
    delete_producer,
    get_transaction,
    rollback_transaction,
)
from zeroloss_client.models import BeginTransactionRequest, ProducerInput

GATEWAY = os.environ.get("ZEROLOSS_URL", "http://localhost:8080")
API_KEY = os.environ.get("ZEROLOSS_API_KEY", "dev-secret-key")
TOPIC = os.environ.get("ZEROLOSS_TOPIC", "orders")

# The producer's own record of its local transactions (a database table in
# real life): transaction id -> "commit" once the local work is durable.
local_outcome: dict[str, str] = {}


def answer_check(check, webhook_id: str) -> str:
    """The broker asks about an undecided transaction: answer from our records."""
    decision = local_outcome.get(check.transaction_id, "unknown")
    print(f"check-back #{check.check_count} for {check.tag} ({check.transaction_id}): {decision}")
    return decision


def main() -> int:
    client = zeroloss.connect(GATEWAY, API_KEY)
    secrets: list[str] = []  # filled once the producer exists; read at each call
    hook = zeroloss.serve({"/tx-check": zeroloss.check_app(secrets, answer_check)})
    producer = create_producer.sync_detailed(
        client=client, body=ProducerInput(name="orders-example-py", check_url=hook.url + "/tx-check")
    ).parsed
    secrets.append(producer.secret)
    print(f"producer {producer.id}, check webhook {hook.url}/tx-check")
    try:
        tx = {}
        for tag in ("TAGA", "TAGB", "TAGC"):
            # 201 only once the broker stored the half message; a retry
            # (503, 409, no answer) reuses the Idempotency-Key.
            r = zeroloss.with_idempotency_key(
                lambda key: begin_transaction.sync_detailed(
                    client=client,
                    body=BeginTransactionRequest(producer=producer.id, topic=TOPIC, body=f"order {tag}", tag=tag),
                    idempotency_key=key,
                )
            )
            if r.status_code != 201:
                print(f"begin {tag}: {r.status_code} {r.content!r}")
                return 1
            tx[tag] = r.parsed.transaction_id
            print(f"began {tag}: {tx[tag]}")

        print("commit A:", commit_transaction.sync_detailed(tx["TAGA"], client=client).parsed.state)
        print("roll back B:", rollback_transaction.sync_detailed(tx["TAGB"], client=client).parsed.state)
        # C: the local transaction commits, but this process never calls
        # commit (as if it crashed here). The check-back will find it.
        local_outcome[tx["TAGC"]] = "commit"
        print("C left undecided; waiting for the broker's check-back…")

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            c = get_transaction.sync_detailed(tx["TAGC"], client=client).parsed
            if c.state != "pending":
                break
            time.sleep(0.5)
        states = {tag: get_transaction.sync_detailed(i, client=client).parsed for tag, i in tx.items()}
        for tag, t in states.items():
            print(f"{tag}: {t.state} (decided by {t.decided_by}, {t.check_count} check-backs)")
        ok = [states[t].state for t in ("TAGA", "TAGB", "TAGC")] == ["committed", "rolled_back", "committed"]
        return 0 if ok else 1
    finally:
        delete_producer.sync_detailed(producer.id, client=client)
        hook.close()


if __name__ == "__main__":
    sys.exit(main())
