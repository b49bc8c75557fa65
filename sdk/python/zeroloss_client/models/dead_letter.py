from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.encoding import Encoding
from ..types import UNSET, Unset

T = TypeVar("T", bound="DeadLetter")


@_attrs_define
class DeadLetter:
    """
    Attributes:
        message_id (str):
        attempts (int):
        dead_at (datetime.datetime):
        dedup_id (str | Unset):
        tag (str | Unset):
        keys (list[str] | Unset):
        last_error (str | Unset):
        body (str | Unset): The first 4 KiB of the body, as text (`utf8`) or, when that is not valid UTF-8, base64
            (`base64`).
        encoding (Encoding | Unset): How `body` is written; deliveries carry the original bytes.
        body_bytes (int | Unset): The body's whole size in bytes.
    """

    message_id: str
    attempts: int
    dead_at: datetime.datetime
    dedup_id: str | Unset = UNSET
    tag: str | Unset = UNSET
    keys: list[str] | Unset = UNSET
    last_error: str | Unset = UNSET
    body: str | Unset = UNSET
    encoding: Encoding | Unset = UNSET
    body_bytes: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        message_id = self.message_id

        attempts = self.attempts

        dead_at = self.dead_at.isoformat()

        dedup_id = self.dedup_id

        tag = self.tag

        keys: list[str] | Unset = UNSET
        if not isinstance(self.keys, Unset):
            keys = self.keys

        last_error = self.last_error

        body = self.body

        encoding: str | Unset = UNSET
        if not isinstance(self.encoding, Unset):
            encoding = self.encoding.value

        body_bytes = self.body_bytes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "messageId": message_id,
                "attempts": attempts,
                "deadAt": dead_at,
            }
        )
        if dedup_id is not UNSET:
            field_dict["dedupId"] = dedup_id
        if tag is not UNSET:
            field_dict["tag"] = tag
        if keys is not UNSET:
            field_dict["keys"] = keys
        if last_error is not UNSET:
            field_dict["lastError"] = last_error
        if body is not UNSET:
            field_dict["body"] = body
        if encoding is not UNSET:
            field_dict["encoding"] = encoding
        if body_bytes is not UNSET:
            field_dict["bodyBytes"] = body_bytes

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        message_id = d.pop("messageId")

        attempts = d.pop("attempts")

        dead_at = datetime.datetime.fromisoformat(d.pop("deadAt"))

        dedup_id = d.pop("dedupId", UNSET)

        tag = d.pop("tag", UNSET)

        keys = cast(list[str], d.pop("keys", UNSET))

        last_error = d.pop("lastError", UNSET)

        body = d.pop("body", UNSET)

        _encoding = d.pop("encoding", UNSET)
        encoding: Encoding | Unset
        if isinstance(_encoding, Unset):
            encoding = UNSET
        else:
            encoding = Encoding(_encoding)

        body_bytes = d.pop("bodyBytes", UNSET)

        dead_letter = cls(
            message_id=message_id,
            attempts=attempts,
            dead_at=dead_at,
            dedup_id=dedup_id,
            tag=tag,
            keys=keys,
            last_error=last_error,
            body=body,
            encoding=encoding,
            body_bytes=body_bytes,
        )

        dead_letter.additional_properties = d
        return dead_letter

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
