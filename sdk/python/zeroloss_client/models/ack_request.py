from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="AckRequest")


@_attrs_define
class AckRequest:
    """
    Example:
        {'receiptHandles': ['r1.WyJzdWJfMDFKRDJYM1k0WjVBNkI3QzhEOUUwRjFHMkgiXQ']}

    Attributes:
        receipt_handles (list[str]):
    """

    receipt_handles: list[str]

    def to_dict(self) -> dict[str, Any]:
        receipt_handles = self.receipt_handles

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "receiptHandles": receipt_handles,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        receipt_handles = cast(list[str], d.pop("receiptHandles"))

        ack_request = cls(
            receipt_handles=receipt_handles,
        )

        return ack_request
