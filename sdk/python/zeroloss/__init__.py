"""zeroloss: the Python client of the zeroloss gateway.

The operations and models are generated from api/openapi.yaml into the
``zeroloss_client`` package (``make sdk``; do not edit it). This package adds
what a generator cannot give: :func:`connect`, Idempotency-Key retries,
Standard Webhooks verification and receivers for check-backs and deliveries.
"""

from zeroloss_client import AuthenticatedClient

from .receiver import (
    CheckRequest,
    Delivery,
    MemorySeen,
    Served,
    check_app,
    delivery_app,
    handle_check,
    handle_delivery,
    serve,
)
from .retry import new_idempotency_key, with_idempotency_key
from .webhooks import WebhookVerificationError, verify_webhook


def connect(base_url: str, api_key: str, **kwargs) -> AuthenticatedClient:
    """Return a client for the generated operations (pass it as ``client=``).

    ``api_key`` is sent as a Bearer token; other keyword arguments go to
    :class:`zeroloss_client.AuthenticatedClient` (``timeout``, ``httpx_args``…).
    """
    return AuthenticatedClient(base_url=base_url.rstrip("/"), token=api_key, **kwargs)


__all__ = [
    "AuthenticatedClient",
    "CheckRequest",
    "Delivery",
    "MemorySeen",
    "Served",
    "WebhookVerificationError",
    "check_app",
    "connect",
    "delivery_app",
    "handle_check",
    "handle_delivery",
    "new_idempotency_key",
    "serve",
    "verify_webhook",
    "with_idempotency_key",
]
