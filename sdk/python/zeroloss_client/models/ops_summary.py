from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.rate_point import RatePoint
    from ..models.readiness import Readiness
    from ..models.replica import Replica


T = TypeVar("T", bound="OpsSummary")


@_attrs_define
class OpsSummary:
    """
    Attributes:
        replicas (list[Replica]):
        readiness (list[Readiness]):
        interval_seconds (int):
        sends (list[RatePoint]):
        deliveries (list[RatePoint]):
    """

    replicas: list[Replica]
    readiness: list[Readiness]
    interval_seconds: int
    sends: list[RatePoint]
    deliveries: list[RatePoint]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        replicas = []
        for replicas_item_data in self.replicas:
            replicas_item = replicas_item_data.to_dict()
            replicas.append(replicas_item)

        readiness = []
        for readiness_item_data in self.readiness:
            readiness_item = readiness_item_data.to_dict()
            readiness.append(readiness_item)

        interval_seconds = self.interval_seconds

        sends = []
        for sends_item_data in self.sends:
            sends_item = sends_item_data.to_dict()
            sends.append(sends_item)

        deliveries = []
        for deliveries_item_data in self.deliveries:
            deliveries_item = deliveries_item_data.to_dict()
            deliveries.append(deliveries_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "replicas": replicas,
                "readiness": readiness,
                "intervalSeconds": interval_seconds,
                "sends": sends,
                "deliveries": deliveries,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.rate_point import RatePoint
        from ..models.readiness import Readiness
        from ..models.replica import Replica

        d = dict(src_dict)
        replicas = []
        _replicas = d.pop("replicas")
        for replicas_item_data in _replicas:
            replicas_item = Replica.from_dict(replicas_item_data)

            replicas.append(replicas_item)

        readiness = []
        _readiness = d.pop("readiness")
        for readiness_item_data in _readiness:
            readiness_item = Readiness.from_dict(readiness_item_data)

            readiness.append(readiness_item)

        interval_seconds = d.pop("intervalSeconds")

        sends = []
        _sends = d.pop("sends")
        for sends_item_data in _sends:
            sends_item = RatePoint.from_dict(sends_item_data)

            sends.append(sends_item)

        deliveries = []
        _deliveries = d.pop("deliveries")
        for deliveries_item_data in _deliveries:
            deliveries_item = RatePoint.from_dict(deliveries_item_data)

            deliveries.append(deliveries_item)

        ops_summary = cls(
            replicas=replicas,
            readiness=readiness,
            interval_seconds=interval_seconds,
            sends=sends,
            deliveries=deliveries,
        )

        ops_summary.additional_properties = d
        return ops_summary

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
