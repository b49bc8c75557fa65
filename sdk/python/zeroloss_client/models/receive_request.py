from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ReceiveRequest")


@_attrs_define
class ReceiveRequest:
    """
    Example:
        {'maxMessages': 10, 'waitSeconds': 5, 'invisibleSeconds': 60}

    Attributes:
        max_messages (int | Unset): Most messages to answer. Default: 10.
        wait_seconds (int | Unset): How long to wait for a first message when none is there (long poll); 0 answers at
            once. Default: 0.
        invisible_seconds (int | Unset): How long the received messages stay invisible to other receives unless settled.
            Default: 30.
    """

    max_messages: int | Unset = 10
    wait_seconds: int | Unset = 0
    invisible_seconds: int | Unset = 30

    def to_dict(self) -> dict[str, Any]:
        max_messages = self.max_messages

        wait_seconds = self.wait_seconds

        invisible_seconds = self.invisible_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if max_messages is not UNSET:
            field_dict["maxMessages"] = max_messages
        if wait_seconds is not UNSET:
            field_dict["waitSeconds"] = wait_seconds
        if invisible_seconds is not UNSET:
            field_dict["invisibleSeconds"] = invisible_seconds

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        max_messages = d.pop("maxMessages", UNSET)

        wait_seconds = d.pop("waitSeconds", UNSET)

        invisible_seconds = d.pop("invisibleSeconds", UNSET)

        receive_request = cls(
            max_messages=max_messages,
            wait_seconds=wait_seconds,
            invisible_seconds=invisible_seconds,
        )

        return receive_request
