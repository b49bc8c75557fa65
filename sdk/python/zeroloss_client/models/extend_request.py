from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="ExtendRequest")


@_attrs_define
class ExtendRequest:
    """
    Example:
        {'receiptHandles': ['r1.WyJzdWJfMDFKRDJYM1k0WjVBNkI3QzhEOUUwRjFHMkgiXQ'], 'invisibleSeconds': 60}

    Attributes:
        receipt_handles (list[str]):
        invisible_seconds (int): Invisible this long from now.
    """

    receipt_handles: list[str]
    invisible_seconds: int

    def to_dict(self) -> dict[str, Any]:
        receipt_handles = self.receipt_handles

        invisible_seconds = self.invisible_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "receiptHandles": receipt_handles,
                "invisibleSeconds": invisible_seconds,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        receipt_handles = cast(list[str], d.pop("receiptHandles"))

        invisible_seconds = d.pop("invisibleSeconds")

        extend_request = cls(
            receipt_handles=receipt_handles,
            invisible_seconds=invisible_seconds,
        )

        return extend_request
