from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="SubscriptionPatch")


@_attrs_define
class SubscriptionPatch:
    """
    Example:
        {'concurrency': 16}

    Attributes:
        name (str | Unset):
        endpoint (str | Unset): An absolute `http` or `https` URL the gateway POSTs to: a host name,
            an IPv4 address or a bracketed IPv6 address, an optional port, a
            path and a query of at most 240 characters or `%` escapes each
            (RFC 3986 characters, `%` only as an escape); no user info, no
            fragment. Loopback, private, link-local, carrier-grade
            NAT, multicast and other non-public addresses (literal, or what a
            name resolves to when the gateway connects) are refused with 400
            `invalid-webhook-url` unless the gateway's `allowPrivateWebhooks`
            setting allows them.
             Example: https://hooks.example.com/zeroloss.
        timeout_ms (int | Unset):
        max_attempts (int | Unset):
        concurrency (int | Unset):
    """

    name: str | Unset = UNSET
    endpoint: str | Unset = UNSET
    timeout_ms: int | Unset = UNSET
    max_attempts: int | Unset = UNSET
    concurrency: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        endpoint = self.endpoint

        timeout_ms = self.timeout_ms

        max_attempts = self.max_attempts

        concurrency = self.concurrency

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if endpoint is not UNSET:
            field_dict["endpoint"] = endpoint
        if timeout_ms is not UNSET:
            field_dict["timeoutMs"] = timeout_ms
        if max_attempts is not UNSET:
            field_dict["maxAttempts"] = max_attempts
        if concurrency is not UNSET:
            field_dict["concurrency"] = concurrency

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name", UNSET)

        endpoint = d.pop("endpoint", UNSET)

        timeout_ms = d.pop("timeoutMs", UNSET)

        max_attempts = d.pop("maxAttempts", UNSET)

        concurrency = d.pop("concurrency", UNSET)

        subscription_patch = cls(
            name=name,
            endpoint=endpoint,
            timeout_ms=timeout_ms,
            max_attempts=max_attempts,
            concurrency=concurrency,
        )

        return subscription_patch
