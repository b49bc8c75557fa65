from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.encoding import Encoding
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.properties import Properties


T = TypeVar("T", bound="BeginTransactionRequest")


@_attrs_define
class BeginTransactionRequest:
    """
    Example:
        {'producer': 'prd_01JD2X3Y4Z5A6B7C8D9E0F1G2H', 'topic': 'orders', 'body': '{"orderId":1001,"status":"paid"}',
            'tag': 'paid', 'checkAfterSeconds': 30}

    Attributes:
        producer (str): The producer whose check URL answers check-backs.
        topic (str): A RocketMQ topic: 1 to 127 characters of `A-Z a-z 0-9 _ -`, not one
            of RocketMQ's own (`TBW102`, `SCHEDULE_TOPIC_XXXX`, `RMQ_SYS_…` in
            any case, …). A topic that does not exist on the cluster is 404
            `topic-not-found`.
             Example: orders.
        body (str):
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
        check_after_seconds (int | Unset): The broker checks back no earlier than this (CHECK_IMMUNITY_TIME_IN_SECONDS).
    """

    producer: str
    topic: str
    body: str
    encoding: Encoding | Unset = UNSET
    tag: str | Unset = UNSET
    keys: list[str] | Unset = UNSET
    properties: Properties | Unset = UNSET
    check_after_seconds: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        producer = self.producer

        topic = self.topic

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

        check_after_seconds = self.check_after_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "producer": producer,
                "topic": topic,
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
        if check_after_seconds is not UNSET:
            field_dict["checkAfterSeconds"] = check_after_seconds

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.properties import Properties

        d = dict(src_dict)
        producer = d.pop("producer")

        topic = d.pop("topic")

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

        check_after_seconds = d.pop("checkAfterSeconds", UNSET)

        begin_transaction_request = cls(
            producer=producer,
            topic=topic,
            body=body,
            encoding=encoding,
            tag=tag,
            keys=keys,
            properties=properties,
            check_after_seconds=check_after_seconds,
        )

        return begin_transaction_request
