from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.encoding import Encoding
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.properties import Properties


T = TypeVar("T", bound="PublishMessageRequest")


@_attrs_define
class PublishMessageRequest:
    """
    Example:
        {'body': '{"orderId":1001,"status":"created"}', 'tag': 'created', 'keys': ['order-1001'], 'properties':
            {'region': 'eu'}, 'shardingKey': 'customer-7'}

    Attributes:
        body (str): The message body, as text (`utf8`) or base64 (`base64`); not empty, at most 4 MiB once decoded.
        encoding (Encoding | Unset): How `body` is written; deliveries carry the original bytes.
        tag (str | Unset): One RocketMQ tag: no `|` and no space (they separate tags in subscription expressions), no
            control character. Example: created.
        keys (list[str] | Unset): Business keys, indexed by the broker for lookup. Each is 1 to 128 characters without
            space or control character (the broker joins keys with spaces). Example: ['order-1001'].
        properties (Properties | Unset): User properties, at most 64. Names are 1 to 64 characters of
            `A-Z a-z 0-9 _ . -` and not one RocketMQ 5.3.3 (`MessageConst`) or
            the gateway reserves: the names in the last `patternProperties`
            pattern and any name starting with `__`, `TIMER_`, `INNER_`,
            `POP_`, `1ST_POP`, `ZL_` or `zl-` (case matters). Values are at
            most 4096 characters without control characters (U+0000–U+001F,
            U+007F).

            The names are refused through `patternProperties` (JSON Schema
            draft 4, which OpenAPI 3.0 tools such as schemathesis read, and
            OpenAPI 3.1), since OpenAPI 3.0 has no keyword for property names;
            tools that ignore it still get the same rule from the gateway: 400
            `validation` naming `/properties/<name>`.

            All properties of a message (these, plus the tag, keys, message id
            and trace context the gateway adds) are encoded as
            name U+0001 value U+0002 and must fit in 32,767 bytes, RocketMQ's
            limit; a message over it is refused with a 4xx problem and nothing
            is sent.
             Example: {'region': 'eu'}.
        delay_seconds (int | Unset): Deliver this many seconds after the broker stored the message (timer message; at
            most one day). Not with `deliverAt`.
        deliver_at (datetime.datetime | Unset): Deliver at this time (RFC 3339; at most one day ahead). Not with
            `delaySeconds`.
        sharding_key (str | Unset): Messages with the same key go to the same queue, so a consumer sees them in send
            order. No control characters.
    """

    body: str
    encoding: Encoding | Unset = UNSET
    tag: str | Unset = UNSET
    keys: list[str] | Unset = UNSET
    properties: Properties | Unset = UNSET
    delay_seconds: int | Unset = UNSET
    deliver_at: datetime.datetime | Unset = UNSET
    sharding_key: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        body = self.body

        encoding: str | Unset = UNSET
        if not isinstance(self.encoding, Unset):
            encoding = self.encoding.value

        tag = self.tag

        keys: list[str] | Unset = UNSET
        if not isinstance(self.keys, Unset):
            keys = self.keys

        properties: dict[str, Any] | Unset = UNSET
        if not isinstance(self.properties, Unset):
            properties = self.properties.to_dict()

        delay_seconds = self.delay_seconds

        deliver_at: str | Unset = UNSET
        if not isinstance(self.deliver_at, Unset):
            deliver_at = self.deliver_at.isoformat()

        sharding_key = self.sharding_key

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "body": body,
            }
        )
        if encoding is not UNSET:
            field_dict["encoding"] = encoding
        if tag is not UNSET:
            field_dict["tag"] = tag
        if keys is not UNSET:
            field_dict["keys"] = keys
        if properties is not UNSET:
            field_dict["properties"] = properties
        if delay_seconds is not UNSET:
            field_dict["delaySeconds"] = delay_seconds
        if deliver_at is not UNSET:
            field_dict["deliverAt"] = deliver_at
        if sharding_key is not UNSET:
            field_dict["shardingKey"] = sharding_key

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.properties import Properties

        d = dict(src_dict)
        body = d.pop("body")

        _encoding = d.pop("encoding", UNSET)
        encoding: Encoding | Unset
        if isinstance(_encoding, Unset):
            encoding = UNSET
        else:
            encoding = Encoding(_encoding)

        tag = d.pop("tag", UNSET)

        keys = cast(list[str], d.pop("keys", UNSET))

        _properties = d.pop("properties", UNSET)
        properties: Properties | Unset
        if isinstance(_properties, Unset):
            properties = UNSET
        else:
            properties = Properties.from_dict(_properties)

        delay_seconds = d.pop("delaySeconds", UNSET)

        _deliver_at = d.pop("deliverAt", UNSET)
        deliver_at: datetime.datetime | Unset
        if isinstance(_deliver_at, Unset):
            deliver_at = UNSET
        else:
            deliver_at = datetime.datetime.fromisoformat(_deliver_at)

        sharding_key = d.pop("shardingKey", UNSET)

        publish_message_request = cls(
            body=body,
            encoding=encoding,
            tag=tag,
            keys=keys,
            properties=properties,
            delay_seconds=delay_seconds,
            deliver_at=deliver_at,
            sharding_key=sharding_key,
        )

        return publish_message_request
