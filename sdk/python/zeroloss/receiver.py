"""Receivers for the gateway's calls: check-backs and deliveries.

``handle_check`` and ``handle_delivery`` are framework-neutral (headers and
raw body in, status and JSON body out); ``check_app`` and ``delivery_app``
wrap them as WSGI applications, and ``serve`` runs WSGI applications on a
background thread with the standard library.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any, Protocol
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from zeroloss_client.models.check_request import CheckRequest

from .webhooks import WebhookVerificationError, verify_webhook

Decide = Callable[[CheckRequest, str], str]
"""Answers a check-back: ``"commit"``, ``"rollback"`` or ``"unknown"``."""


def handle_check(
    secrets: str | Iterable[str], headers: Mapping[str, str], body: bytes, decide: Decide
) -> tuple[int, dict[str, Any]]:
    """Answer one check-back of a producer's checkUrl.

    Verifies the signature (401 if wrong), calls ``decide(check, webhook_id)``
    and answers ``{"decision": …}``. An exception in ``decide`` answers 500,
    which the gateway counts as unknown (it asks again).
    """
    try:
        verify_webhook(secrets, body, headers)
    except WebhookVerificationError:
        return 401, {"decision": "unknown"}
    h = {k.lower(): v for k, v in headers.items()}
    try:
        decision = decide(CheckRequest.from_dict(json.loads(body)), h["webhook-id"])
    except Exception:  # noqa: BLE001 - any failure is "unknown", never commit
        return 500, {"decision": "unknown"}
    if decision not in ("commit", "rollback", "unknown"):
        return 500, {"decision": "unknown"}
    return 200, {"decision": decision}


@dataclass
class Delivery:
    """One message delivered by a push subscription."""

    webhook_id: str
    """The subscription's dedup id: the same for every attempt of one event."""
    message_id: str
    """``ce-id``: RocketMQ's message id."""
    attempt: int
    source: str
    tag: str | None
    keys: list[str]
    properties: dict[str, str]
    content_type: str
    body: bytes
    """The message's original bytes."""
    headers: dict[str, str] = field(repr=False)


class SeenStore(Protocol):
    """Remembers which webhook-ids were processed."""

    def __contains__(self, webhook_id: str) -> bool: ...
    def add(self, webhook_id: str) -> None: ...


class MemorySeen(set):
    """A SeenStore in this process's memory (use a database in production)."""


class _Running:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids: set[str] = set()


def handle_delivery(
    secrets: str | Iterable[str],
    headers: Mapping[str, str],
    body: bytes,
    on_delivery: Callable[[Delivery], None],
    seen: SeenStore,
    _running: _Running | None = None,
) -> tuple[int, dict[str, Any]]:
    """Answer one delivery to a subscription's endpoint.

    Verifies the signature (401 if wrong: the gateway dead-letters it),
    answers 200 without calling ``on_delivery`` for a webhook-id in ``seen``,
    and otherwise calls ``on_delivery`` and adds the id to ``seen`` once it
    returned. An exception answers 500, so the gateway retries.
    """
    try:
        verify_webhook(secrets, body, headers)
    except WebhookVerificationError:
        return 401, {"error": "bad signature"}
    h = {k.lower(): v for k, v in headers.items()}
    wid = h["webhook-id"]
    running = _running or _Running()
    with running.lock:
        if wid in running.ids:
            return 503, {"error": "in progress"}  # retried later
        running.ids.add(wid)
    try:
        if wid not in seen:
            on_delivery(
                Delivery(
                    webhook_id=wid,
                    message_id=h.get("ce-id", ""),
                    attempt=int(h.get("ce-attempt", "1")),
                    source=h.get("ce-source", ""),
                    tag=h.get("ce-tag"),
                    keys=h.get("ce-keys", "").split(),
                    properties=dict(urllib.parse.parse_qsl(h.get("ce-properties", ""))),
                    content_type=h.get("content-type", "application/octet-stream"),
                    body=body,
                    headers=h,
                )
            )
            seen.add(wid)
        return 200, {"ok": True}
    except Exception:  # noqa: BLE001 - the gateway retries
        return 500, {"error": "handler failed"}
    finally:
        with running.lock:
            running.ids.discard(wid)


def _wsgi(handle: Callable[[Mapping[str, str], bytes], tuple[int, dict[str, Any]]]):
    def app(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        status, out = handle(headers, body)
        data = json.dumps(out).encode()
        start_response(f"{status} {_REASONS.get(status, 'Status')}", [("Content-Type", "application/json")])
        return [data]

    return app


_REASONS = {200: "OK", 401: "Unauthorized", 404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable"}


def check_app(secrets: str | Iterable[str], decide: Decide):
    """A WSGI application for a producer's checkUrl (see :func:`handle_check`)."""
    return _wsgi(lambda h, b: handle_check(secrets, h, b, decide))


def delivery_app(secrets: str | Iterable[str], on_delivery: Callable[[Delivery], None], seen: SeenStore | None = None):
    """A WSGI application for a subscription's endpoint (see :func:`handle_delivery`)."""
    store = MemorySeen() if seen is None else seen
    running = _Running()
    return _wsgi(lambda h, b: handle_delivery(secrets, h, b, on_delivery, store, running))


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


@dataclass
class Served:
    """A WSGI server running on a background thread."""

    url: str
    server: WSGIServer

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def serve(apps: Any, host: str = "127.0.0.1", port: int = 0) -> Served:
    """Serve a WSGI app, or a dict of path → app, on host:port (a free port by default)."""

    def route(environ, start_response):
        app = apps.get(environ.get("PATH_INFO", "/")) if isinstance(apps, dict) else apps
        if app is None:
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'{"error":"not found"}']
        return app(environ, start_response)

    server = make_server(host, port, route, server_class=_ThreadingServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="zeroloss-webhooks", daemon=True).start()
    return Served(url=f"http://{host}:{server.server_port}", server=server)
