from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.published_batch_item import PublishedBatchItem


T = TypeVar("T", bound="PublishedBatch")


@_attrs_define
class PublishedBatch:
    """
    Attributes:
        topic (str):
        broker_name (str):
        queue_id (int):
        items (list[PublishedBatchItem]): One entry per message, in request order.
    """

    topic: str
    broker_name: str
    queue_id: int
    items: list[PublishedBatchItem]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        topic = self.topic

        broker_name = self.broker_name

        queue_id = self.queue_id

        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "topic": topic,
                "brokerName": broker_name,
                "queueId": queue_id,
                "items": items,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.published_batch_item import PublishedBatchItem

        d = dict(src_dict)
        topic = d.pop("topic")

        broker_name = d.pop("brokerName")

        queue_id = d.pop("queueId")

        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = PublishedBatchItem.from_dict(items_item_data)

            items.append(items_item)

        published_batch = cls(
            topic=topic,
            broker_name=broker_name,
            queue_id=queue_id,
            items=items,
        )

        published_batch.additional_properties = d
        return published_batch

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
