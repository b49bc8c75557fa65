from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="RetrySchedule")


@_attrs_define
class RetrySchedule:
    """The waits between attempts: an explicit list (`delaysSeconds`, the
    wait before the 2nd, 3rd … attempt; its last entry repeats), or
    exponential (`initialDelaySeconds` doubled per attempt up to
    `maxDelaySeconds`, each wait drawn at random between half and all
    of it, so a burst of failures spreads out). Not both;
    `maxDelaySeconds` alone is exponential from 1 s, and with a list it
    caps the list's waits. Default: the
    list 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. A `Retry-After` from
    the endpoint (on 408, 429, 5xx) makes the next wait longer when it
    asks for more (capped by the gateway's `retryAfterMax`, 1 h by
    default). After `maxAttempts` the message is dead-lettered.

        Example:
            {'delaysSeconds': [5, 300, 1800, 7200, 18000, 36000, 36000]}

        Attributes:
            delays_seconds (list[int] | Unset):
            initial_delay_seconds (int | Unset):
            max_delay_seconds (int | Unset):
    """

    delays_seconds: list[int] | Unset = UNSET
    initial_delay_seconds: int | Unset = UNSET
    max_delay_seconds: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        delays_seconds: list[int] | Unset = UNSET
        if not isinstance(self.delays_seconds, Unset):
            delays_seconds = self.delays_seconds

        initial_delay_seconds = self.initial_delay_seconds

        max_delay_seconds = self.max_delay_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if delays_seconds is not UNSET:
            field_dict["delaysSeconds"] = delays_seconds
        if initial_delay_seconds is not UNSET:
            field_dict["initialDelaySeconds"] = initial_delay_seconds
        if max_delay_seconds is not UNSET:
            field_dict["maxDelaySeconds"] = max_delay_seconds

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        delays_seconds = cast(list[int], d.pop("delaysSeconds", UNSET))

        initial_delay_seconds = d.pop("initialDelaySeconds", UNSET)

        max_delay_seconds = d.pop("maxDelaySeconds", UNSET)

        retry_schedule = cls(
            delays_seconds=delays_seconds,
            initial_delay_seconds=initial_delay_seconds,
            max_delay_seconds=max_delay_seconds,
        )

        return retry_schedule
