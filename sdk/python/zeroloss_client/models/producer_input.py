from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ProducerInput")


@_attrs_define
class ProducerInput:
    """
    Attributes:
        name (str):
        check_url (str): Called (POST, signed with Standard Webhooks headers) when the broker
            checks back an undecided transaction; body `CheckRequest`; answer
            2xx with `CheckResponse`. Anything else counts as `unknown`.
            http or https; loopback, private and link-local addresses are
            refused unless the gateway allows them.
        timeout_ms (int | Unset):  Default: 5000.
    """

    name: str
    check_url: str
    timeout_ms: int | Unset = 5000

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        check_url = self.check_url

        timeout_ms = self.timeout_ms

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "checkUrl": check_url,
            }
        )
        if timeout_ms is not UNSET:
            field_dict["timeoutMs"] = timeout_ms

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name")

        check_url = d.pop("checkUrl")

        timeout_ms = d.pop("timeoutMs", UNSET)

        producer_input = cls(
            name=name,
            check_url=check_url,
            timeout_ms=timeout_ms,
        )

        return producer_input
