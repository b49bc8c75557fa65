"""Standard Webhooks verification of the gateway's calls."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

__all__ = ["WebhookVerificationError", "verify_webhook"]

TOLERANCE_SECONDS = 5 * 60


def verify_webhook(secrets: str | Iterable[str], body: bytes, headers: Mapping[str, str]) -> None:
    """Check a call from the gateway (check-back or delivery).

    Some v1 signature in ``webhook-signature`` must be the HMAC-SHA256 of
    ``webhook-id.webhook-timestamp.body`` under one of ``secrets``
    (``whsec_…``; pass the old and the new one during a rotation), and the
    timestamp within five minutes. Raises :class:`WebhookVerificationError`
    otherwise. ``body`` must be the raw bytes received.

    Text bodies are verified by the ``standardwebhooks`` package. It decodes
    the body as UTF-8 first, which fails for binary bodies (messages sent
    with ``encoding: base64``); those are verified here over the bytes, with
    the same algorithm.
    """
    if isinstance(secrets, str):
        secrets = [secrets]
    h = {k.lower(): v for k, v in headers.items()}
    try:
        text: str | None = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    last: Exception = WebhookVerificationError("No secret given")
    for secret in secrets:
        try:
            if text is not None:
                Webhook(secret).verify(text, h, json_parse=False)
            else:
                _verify_bytes(secret, body, h)
            return
        except (WebhookVerificationError, ValueError) as err:
            # ValueError: a malformed signature list or secret.
            last = err if isinstance(err, WebhookVerificationError) else WebhookVerificationError(str(err))
    raise last


def _verify_bytes(secret: str, body: bytes, h: Mapping[str, str]) -> None:
    msg_id, ts, sigs = h.get("webhook-id"), h.get("webhook-timestamp"), h.get("webhook-signature")
    if not (msg_id and ts and sigs):
        raise WebhookVerificationError("Missing required headers")
    try:
        t = int(ts)
    except ValueError:
        raise WebhookVerificationError("Invalid Signature Headers") from None
    now = time.time()
    if now - t > TOLERANCE_SECONDS:
        raise WebhookVerificationError("Message timestamp too old")
    if t > now + TOLERANCE_SECONDS:
        raise WebhookVerificationError("Message timestamp too new")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    want = hmac.new(key, f"{msg_id}.{t}.".encode() + body, hashlib.sha256).digest()
    for versioned in sigs.split(" "):
        version, _, sig = versioned.partition(",")
        if version == "v1" and hmac.compare_digest(base64.b64decode(sig), want):
            return
    raise WebhookVerificationError("No matching signature found")
