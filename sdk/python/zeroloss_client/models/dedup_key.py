from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.dedup_key_source import DedupKeySource
from ..types import UNSET, Unset

T = TypeVar("T", bound="DedupKey")


@_attrs_define
class DedupKey:
    """What identifies "the same event" for duplicate suppression.

    Attributes:
        source (DedupKeySource): `message_id` (default): the RocketMQ message id; `key`: the first message key;
            `property`: the property named by `property` (required with this source); `none`: no duplicate suppression
            (every RocketMQ delivery reaches the endpoint; the webhook-id is the message id).
        property_ (str | Unset): The user property whose value identifies an event (a property name, see `Properties`).
    """

    source: DedupKeySource
    property_: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        source = self.source.value

        property_ = self.property_

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "source": source,
            }
        )
        if property_ is not UNSET:
            field_dict["property"] = property_

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        source = DedupKeySource(d.pop("source"))

        property_ = d.pop("property", UNSET)

        dedup_key = cls(
            source=source,
            property_=property_,
        )

        return dedup_key
