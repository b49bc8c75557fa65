from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="SubscriptionPatch")


@_attrs_define
class SubscriptionPatch:
    """
    Attributes:
        name (str | Unset):
        endpoint (str | Unset):
        timeout_ms (int | Unset):
        max_attempts (int | Unset):
        concurrency (int | Unset):
    """

    name: str | Unset = UNSET
    endpoint: str | Unset = UNSET
    timeout_ms: int | Unset = UNSET
    max_attempts: int | Unset = UNSET
    concurrency: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        endpoint = self.endpoint

        timeout_ms = self.timeout_ms

        max_attempts = self.max_attempts

        concurrency = self.concurrency

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if endpoint is not UNSET:
            field_dict["endpoint"] = endpoint
        if timeout_ms is not UNSET:
            field_dict["timeoutMs"] = timeout_ms
        if max_attempts is not UNSET:
            field_dict["maxAttempts"] = max_attempts
        if concurrency is not UNSET:
            field_dict["concurrency"] = concurrency

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name", UNSET)

        endpoint = d.pop("endpoint", UNSET)

        timeout_ms = d.pop("timeoutMs", UNSET)

        max_attempts = d.pop("maxAttempts", UNSET)

        concurrency = d.pop("concurrency", UNSET)

        subscription_patch = cls(
            name=name,
            endpoint=endpoint,
            timeout_ms=timeout_ms,
            max_attempts=max_attempts,
            concurrency=concurrency,
        )

        return subscription_patch
