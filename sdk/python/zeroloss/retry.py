"""Retries that reuse one Idempotency-Key."""

from __future__ import annotations

import email.utils
import time
import uuid
from typing import Callable, TypeVar

import httpx

from zeroloss_client.types import Response

T = TypeVar("T")

RETRY_STATUSES = frozenset({409, 503})


def new_idempotency_key() -> str:
    """Return a fresh random Idempotency-Key."""
    return str(uuid.uuid4())


def with_idempotency_key(
    call: Callable[[str], Response[T]],
    *,
    idempotency_key: str | None = None,
    attempts: int = 6,
    max_delay: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Response[T]:
    """Call ``call(key)`` with one Idempotency-Key until the answer is final.

    Retries, with the same key, what the contract says to retry: 503
    (``send-unconfirmed``: the message may or may not be stored;
    ``dependency-unavailable``), 409 (``idempotency-key-in-use``: the first
    attempt still runs) and a request that got no answer (connection error,
    timeout). Waits ``Retry-After`` seconds when the gateway sends one, else
    backs off exponentially; never longer than ``max_delay``. Returns the
    last answer; re-raises the transport error of the last attempt.

    Reusing the key makes the retry safe: the gateway replays the stored
    answer (``Idempotent-Replayed: true``) or sends with the first attempt's
    message id::

        r = with_idempotency_key(lambda key: publish_message.sync_detailed(
            "orders", client=client, body=req, idempotency_key=key))
    """
    key = idempotency_key or new_idempotency_key()
    attempts = max(1, attempts)
    backoff = 0.2
    for i in range(1, attempts + 1):
        try:
            r = call(key)
        except httpx.TransportError:
            if i >= attempts:
                raise
            sleep(min(backoff, max_delay))
            backoff *= 2
            continue
        if int(r.status_code) not in RETRY_STATUSES or i >= attempts:
            return r
        after = _retry_after(r.headers.get("Retry-After"))
        sleep(min(backoff if after is None else after, max_delay))
        backoff *= 2
    raise AssertionError("unreachable")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
