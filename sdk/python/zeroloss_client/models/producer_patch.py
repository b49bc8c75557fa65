from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ProducerPatch")


@_attrs_define
class ProducerPatch:
    """
    Example:
        {'timeoutMs': 10000}

    Attributes:
        name (str | Unset):
        check_url (str | Unset): An absolute `http` or `https` URL the gateway POSTs to: a host name,
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
    """

    name: str | Unset = UNSET
    check_url: str | Unset = UNSET
    timeout_ms: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        check_url = self.check_url

        timeout_ms = self.timeout_ms

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if check_url is not UNSET:
            field_dict["checkUrl"] = check_url
        if timeout_ms is not UNSET:
            field_dict["timeoutMs"] = timeout_ms

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name", UNSET)

        check_url = d.pop("checkUrl", UNSET)

        timeout_ms = d.pop("timeoutMs", UNSET)

        producer_patch = cls(
            name=name,
            check_url=check_url,
            timeout_ms=timeout_ms,
        )

        return producer_patch
