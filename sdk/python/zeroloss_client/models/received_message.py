from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.encoding import Encoding
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.received_message_properties import ReceivedMessageProperties


T = TypeVar("T", bound="ReceivedMessage")


@_attrs_define
class ReceivedMessage:
    """
    Attributes:
        message_id (str): The message's id (RocketMQ UNIQ_KEY); the same for every delivery of the message. Example:
            0192F4C3A8B07D1E2F3A4B5C6D7E0000.
        topic (str):
        body (str): The body as sent, as text when it is valid UTF-8 (`utf8`), else base64 (`base64`).
        encoding (Encoding): How `body` is written; deliveries carry the original bytes.
        attempt (int): How many times this message has been received, this time included.
        receipt_handle (str): Settles this delivery (`…/ack`, `…/nack`, `…/extend`) on any replica until
            `invisibleUntil`.
        invisible_until (datetime.datetime): Until when no other receive gets this message; not acked by then, it is
            received again.
        dedup_id (str | Unset): What duplicate suppression keys on (the subscription's `dedupKey`); absent with source
            `none`.
        tag (str | Unset):
        keys (list[str] | Unset):
        properties (ReceivedMessageProperties | Unset): The user's properties (none of RocketMQ's or the gateway's own).
        born_at (datetime.datetime | Unset): When the producer sent it.
    """

    message_id: str
    topic: str
    body: str
    encoding: Encoding
    attempt: int
    receipt_handle: str
    invisible_until: datetime.datetime
    dedup_id: str | Unset = UNSET
    tag: str | Unset = UNSET
    keys: list[str] | Unset = UNSET
    properties: ReceivedMessageProperties | Unset = UNSET
    born_at: datetime.datetime | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        message_id = self.message_id

        topic = self.topic

        body = self.body

        encoding = self.encoding.value

        attempt = self.attempt

        receipt_handle = self.receipt_handle

        invisible_until = self.invisible_until.isoformat()

        dedup_id = self.dedup_id

        tag = self.tag

        keys: list[str] | Unset = UNSET
        if not isinstance(self.keys, Unset):
            keys = self.keys

        properties: dict[str, Any] | Unset = UNSET
        if not isinstance(self.properties, Unset):
            properties = self.properties.to_dict()

        born_at: str | Unset = UNSET
        if not isinstance(self.born_at, Unset):
            born_at = self.born_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "messageId": message_id,
                "topic": topic,
                "body": body,
                "encoding": encoding,
                "attempt": attempt,
                "receiptHandle": receipt_handle,
                "invisibleUntil": invisible_until,
            }
        )
        if dedup_id is not UNSET:
            field_dict["dedupId"] = dedup_id
        if tag is not UNSET:
            field_dict["tag"] = tag
        if keys is not UNSET:
            field_dict["keys"] = keys
        if properties is not UNSET:
            field_dict["properties"] = properties
        if born_at is not UNSET:
            field_dict["bornAt"] = born_at

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.received_message_properties import ReceivedMessageProperties

        d = dict(src_dict)
        message_id = d.pop("messageId")

        topic = d.pop("topic")

        body = d.pop("body")

        encoding = Encoding(d.pop("encoding"))

        attempt = d.pop("attempt")

        receipt_handle = d.pop("receiptHandle")

        invisible_until = datetime.datetime.fromisoformat(d.pop("invisibleUntil"))

        dedup_id = d.pop("dedupId", UNSET)

        tag = d.pop("tag", UNSET)

        keys = cast(list[str], d.pop("keys", UNSET))

        _properties = d.pop("properties", UNSET)
        properties: ReceivedMessageProperties | Unset
        if isinstance(_properties, Unset):
            properties = UNSET
        else:
            properties = ReceivedMessageProperties.from_dict(_properties)

        _born_at = d.pop("bornAt", UNSET)
        born_at: datetime.datetime | Unset
        if isinstance(_born_at, Unset):
            born_at = UNSET
        else:
            born_at = datetime.datetime.fromisoformat(_born_at)

        received_message = cls(
            message_id=message_id,
            topic=topic,
            body=body,
            encoding=encoding,
            attempt=attempt,
            receipt_handle=receipt_handle,
            invisible_until=invisible_until,
            dedup_id=dedup_id,
            tag=tag,
            keys=keys,
            properties=properties,
            born_at=born_at,
        )

        received_message.additional_properties = d
        return received_message

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
