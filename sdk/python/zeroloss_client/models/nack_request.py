from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="NackRequest")


@_attrs_define
class NackRequest:
    """
    Example:
        {'receiptHandles': ['r1.WyJzdWJfMDFKRDJYM1k0WjVBNkI3QzhEOUUwRjFHMkgiXQ'], 'delaySeconds': 10}

    Attributes:
        receipt_handles (list[str]):
        delay_seconds (int | Unset): Receivable again this long after the nack. Default: 0.
    """

    receipt_handles: list[str]
    delay_seconds: int | Unset = 0

    def to_dict(self) -> dict[str, Any]:
        receipt_handles = self.receipt_handles

        delay_seconds = self.delay_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "receiptHandles": receipt_handles,
            }
        )
        if delay_seconds is not UNSET:
            field_dict["delaySeconds"] = delay_seconds

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        receipt_handles = cast(list[str], d.pop("receiptHandles"))

        delay_seconds = d.pop("delaySeconds", UNSET)

        nack_request = cls(
            receipt_handles=receipt_handles,
            delay_seconds=delay_seconds,
        )

        return nack_request
