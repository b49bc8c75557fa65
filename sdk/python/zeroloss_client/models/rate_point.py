from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="RatePoint")


@_attrs_define
class RatePoint:
    """
    Attributes:
        at (datetime.datetime): Start of the interval.
        ok_per_second (float): Sends answered SEND_OK, or deliveries acknowledged (2xx or a suppressed duplicate).
        failed_per_second (float): Sends not confirmed, or delivery attempts that failed (retried, dead-lettered, 410).
    """

    at: datetime.datetime
    ok_per_second: float
    failed_per_second: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat()

        ok_per_second = self.ok_per_second

        failed_per_second = self.failed_per_second

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "at": at,
                "okPerSecond": ok_per_second,
                "failedPerSecond": failed_per_second,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        at = datetime.datetime.fromisoformat(d.pop("at"))

        ok_per_second = d.pop("okPerSecond")

        failed_per_second = d.pop("failedPerSecond")

        rate_point = cls(
            at=at,
            ok_per_second=ok_per_second,
            failed_per_second=failed_per_second,
        )

        rate_point.additional_properties = d
        return rate_point

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
