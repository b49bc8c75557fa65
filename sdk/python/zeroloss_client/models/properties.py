from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Properties")


@_attrs_define
class Properties:
    """User properties, at most 64. Names are 1 to 64 characters of
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

        Example:
            {'region': 'eu'}

    """

    additional_properties: dict[str, str] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        properties = cls()

        properties.additional_properties = d
        return properties

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> str:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: str) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
