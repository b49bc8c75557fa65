from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.rate_point import RatePoint


T = TypeVar("T", bound="SubscriptionStats")


@_attrs_define
class SubscriptionStats:
    """
    Attributes:
        subscription_id (str):
        interval_seconds (int):
        deliveries (list[RatePoint]):
        lag (int | Unset): Messages not acknowledged yet; absent when the broker did not answer.
    """

    subscription_id: str
    interval_seconds: int
    deliveries: list[RatePoint]
    lag: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        subscription_id = self.subscription_id

        interval_seconds = self.interval_seconds

        deliveries = []
        for deliveries_item_data in self.deliveries:
            deliveries_item = deliveries_item_data.to_dict()
            deliveries.append(deliveries_item)

        lag = self.lag

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "subscriptionId": subscription_id,
                "intervalSeconds": interval_seconds,
                "deliveries": deliveries,
            }
        )
        if lag is not UNSET:
            field_dict["lag"] = lag

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.rate_point import RatePoint

        d = dict(src_dict)
        subscription_id = d.pop("subscriptionId")

        interval_seconds = d.pop("intervalSeconds")

        deliveries = []
        _deliveries = d.pop("deliveries")
        for deliveries_item_data in _deliveries:
            deliveries_item = RatePoint.from_dict(deliveries_item_data)

            deliveries.append(deliveries_item)

        lag = d.pop("lag", UNSET)

        subscription_stats = cls(
            subscription_id=subscription_id,
            interval_seconds=interval_seconds,
            deliveries=deliveries,
            lag=lag,
        )

        subscription_stats.additional_properties = d
        return subscription_stats

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
