from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.check_request_properties import CheckRequestProperties


T = TypeVar("T", bound="CheckRequest")


@_attrs_define
class CheckRequest:
    """Body of a check webhook call (the gateway sends it; documented for receivers).

    Attributes:
        transaction_id (str):
        message_id (str):
        producer (str):
        topic (str):
        check_count (int):
        tag (str | Unset):
        keys (list[str] | Unset):
        properties (CheckRequestProperties | Unset):
    """

    transaction_id: str
    message_id: str
    producer: str
    topic: str
    check_count: int
    tag: str | Unset = UNSET
    keys: list[str] | Unset = UNSET
    properties: CheckRequestProperties | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        transaction_id = self.transaction_id

        message_id = self.message_id

        producer = self.producer

        topic = self.topic

        check_count = self.check_count

        tag = self.tag

        keys: list[str] | Unset = UNSET
        if not isinstance(self.keys, Unset):
            keys = self.keys

        properties: dict[str, Any] | Unset = UNSET
        if not isinstance(self.properties, Unset):
            properties = self.properties.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "transactionId": transaction_id,
                "messageId": message_id,
                "producer": producer,
                "topic": topic,
                "checkCount": check_count,
            }
        )
        if tag is not UNSET:
            field_dict["tag"] = tag
        if keys is not UNSET:
            field_dict["keys"] = keys
        if properties is not UNSET:
            field_dict["properties"] = properties

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.check_request_properties import CheckRequestProperties

        d = dict(src_dict)
        transaction_id = d.pop("transactionId")

        message_id = d.pop("messageId")

        producer = d.pop("producer")

        topic = d.pop("topic")

        check_count = d.pop("checkCount")

        tag = d.pop("tag", UNSET)

        keys = cast(list[str], d.pop("keys", UNSET))

        _properties = d.pop("properties", UNSET)
        properties: CheckRequestProperties | Unset
        if isinstance(_properties, Unset):
            properties = UNSET
        else:
            properties = CheckRequestProperties.from_dict(_properties)

        check_request = cls(
            transaction_id=transaction_id,
            message_id=message_id,
            producer=producer,
            topic=topic,
            check_count=check_count,
            tag=tag,
            keys=keys,
            properties=properties,
        )

        check_request.additional_properties = d
        return check_request

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
