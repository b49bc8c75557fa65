from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.batch_message import BatchMessage


T = TypeVar("T", bound="PublishBatchRequest")


@_attrs_define
class PublishBatchRequest:
    """
    Example:
        {'messages': [{'body': '{"orderId":1001}', 'tag': 'created'}, {'body': 'aGVsbG8=', 'encoding': 'base64', 'keys':
            ['order-1002']}]}

    Attributes:
        messages (list[BatchMessage]):
    """

    messages: list[BatchMessage]

    def to_dict(self) -> dict[str, Any]:
        messages = []
        for messages_item_data in self.messages:
            messages_item = messages_item_data.to_dict()
            messages.append(messages_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "messages": messages,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.batch_message import BatchMessage

        d = dict(src_dict)
        messages = []
        _messages = d.pop("messages")
        for messages_item_data in _messages:
            messages_item = BatchMessage.from_dict(messages_item_data)

            messages.append(messages_item)

        publish_batch_request = cls(
            messages=messages,
        )

        return publish_batch_request
