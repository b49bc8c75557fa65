from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="PublishedMessage")


@_attrs_define
class PublishedMessage:
    """
    Attributes:
        message_id (str): The message's id (RocketMQ UNIQ_KEY), unique across gateway replicas and the same for every
            retry with one Idempotency-Key. Example: 0192F4C3A8B07D1E2F3A4B5C6D7E0000.
        topic (str):
        broker_name (str): The broker group that stored the message.
        queue_id (int):
        queue_offset (int):
    """

    message_id: str
    topic: str
    broker_name: str
    queue_id: int
    queue_offset: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        message_id = self.message_id

        topic = self.topic

        broker_name = self.broker_name

        queue_id = self.queue_id

        queue_offset = self.queue_offset

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "messageId": message_id,
                "topic": topic,
                "brokerName": broker_name,
                "queueId": queue_id,
                "queueOffset": queue_offset,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        message_id = d.pop("messageId")

        topic = d.pop("topic")

        broker_name = d.pop("brokerName")

        queue_id = d.pop("queueId")

        queue_offset = d.pop("queueOffset")

        published_message = cls(
            message_id=message_id,
            topic=topic,
            broker_name=broker_name,
            queue_id=queue_id,
            queue_offset=queue_offset,
        )

        published_message.additional_properties = d
        return published_message

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
