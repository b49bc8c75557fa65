from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ProducerPatch")


@_attrs_define
class ProducerPatch:
    """
    Attributes:
        name (str | Unset):
        check_url (str | Unset):
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
