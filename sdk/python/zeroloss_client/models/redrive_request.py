from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="RedriveRequest")


@_attrs_define
class RedriveRequest:
    """
    Example:
        {'messageIds': ['0192F4C3A8B07D1E2F3A4B5C6D7E0000']}

    Attributes:
        message_ids (list[str] | Unset): The dead letters to redrive; all when absent.
        since (datetime.datetime | Unset): Only dead letters that died at or after this time (with `messageIds` or
            `until`, all must hold).
        until (datetime.datetime | Unset): Only dead letters that died before this time (with `messageIds` or `since`,
            all must hold).
            An `until` before `since` is 400 `validation` (field `/until`).
    """

    message_ids: list[str] | Unset = UNSET
    since: datetime.datetime | Unset = UNSET
    until: datetime.datetime | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        message_ids: list[str] | Unset = UNSET
        if not isinstance(self.message_ids, Unset):
            message_ids = self.message_ids

        since: str | Unset = UNSET
        if not isinstance(self.since, Unset):
            since = self.since.isoformat()

        until: str | Unset = UNSET
        if not isinstance(self.until, Unset):
            until = self.until.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if message_ids is not UNSET:
            field_dict["messageIds"] = message_ids
        if since is not UNSET:
            field_dict["since"] = since
        if until is not UNSET:
            field_dict["until"] = until

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        message_ids = cast(list[str], d.pop("messageIds", UNSET))

        _since = d.pop("since", UNSET)
        since: datetime.datetime | Unset
        if isinstance(_since, Unset):
            since = UNSET
        else:
            since = datetime.datetime.fromisoformat(_since)

        _until = d.pop("until", UNSET)
        until: datetime.datetime | Unset
        if isinstance(_until, Unset):
            until = UNSET
        else:
            until = datetime.datetime.fromisoformat(_until)

        redrive_request = cls(
            message_ids=message_ids,
            since=since,
            until=until,
        )

        return redrive_request
