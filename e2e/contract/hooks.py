"""schemathesis hooks for e2e/contract/run.sh.

The contract states a few rules JSON Schema cannot: they are written in the
operations' descriptions and answered with documented 4xx problems. These
hooks keep schema-valid test data inside those rules, so that a refusal of
schema-valid data still fails the run (positive_data_acceptance), and leave
every other request as generated.
"""

import datetime
import os
import sys
import re
import uuid

import schemathesis

# deliverAt is at most one day ahead (MessagesConfig.MaxDelay); a minute of
# slack covers the time between generation and the gateway's clock reading.
MAX_DELAY = datetime.timedelta(days=1) - datetime.timedelta(minutes=1)

# RocketMQ refuses messages whose encoded properties exceed 32,767 bytes;
# the gateway adds its own (tag, keys, message id, trace context).
MAX_USER_PROPERTY_BYTES = 30_000

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7E]{1,255}$")
UNIQUE_SUFFIX_LENGTH = 33  # "." and 32 hex digits


def _too_far(value):
    if not isinstance(value, str):
        return False
    try:
        at = datetime.datetime.fromisoformat(value)
    except ValueError:
        return False  # not a date-time: the contract refuses it, keep the case
    if at.tzinfo is None:
        return False
    now = datetime.datetime.now(datetime.timezone.utc)
    return at - now > MAX_DELAY


def _property_bytes(props):
    if not isinstance(props, dict):
        return 0
    return sum(len(str(k).encode("utf-8", "surrogatepass")) + len(str(v).encode("utf-8", "surrogatepass")) + 2
               for k, v in props.items())


def _messages(body):
    if not isinstance(body, dict):
        return []
    batch = body.get("messages")
    if isinstance(batch, list):
        return [m for m in batch if isinstance(m, dict)]
    return [body]


def _instant(value):
    """The aware date-time value names, or None."""
    if not isinstance(value, str):
        return None
    try:
        at = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def _window_ends_before_it_starts(body):
    """A redrive's until before its since (the operation text's 400)."""
    if not isinstance(body, dict):
        return False
    since, until = _instant(body.get("since")), _instant(body.get("until"))
    return since is not None and until is not None and until < since


@schemathesis.hook
def filter_body(context, body):
    """Drop bodies the operation text refuses: a deliverAt more than a day
    ahead, properties over RocketMQ's size limit, a redrive window whose
    until is before its since."""
    if _window_ends_before_it_starts(body):
        return False
    for m in _messages(body):
        if _too_far(m.get("deliverAt")):
            return False
        if _property_bytes(m.get("properties")) > MAX_USER_PROPERTY_BYTES:
            return False
    return True


@schemathesis.hook
def before_call(context, case, kwargs):
    """Make every well-formed Idempotency-Key unique to its request.

    Generated keys repeat ("0", "!"), and a key reused with another payload
    is a documented 422, a reused one with the same payload a replay of an
    earlier answer (for a resource that may be gone since). Keys the contract
    refuses are left as they are."""
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() != "idempotency-key":
            continue
        value = headers[name]
        if isinstance(value, str) and IDEMPOTENCY_KEY.match(value):
            # Same length when the key is at the limit (a boundary case).
            keep = min(len(value), 255 - UNIQUE_SUFFIX_LENGTH)
            headers[name] = value[:keep] + "." + uuid.uuid4().hex
            if os.environ.get("ZL_CONTRACT_DEBUG"):
                print("idempotency key", value, "->", headers[name], file=sys.stderr)
