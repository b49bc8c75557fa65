from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.subscription_mode import SubscriptionMode
from ..models.subscription_state import SubscriptionState
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.dedup_key import DedupKey


T = TypeVar("T", bound="Subscription")


@_attrs_define
class Subscription:
    """
    Attributes:
        id (str):  Example: sub_01JD2X3Y4Z5A6B7C8D9E0F1G2H.
        name (str):
        mode (SubscriptionMode): `push`: the gateway POSTs each message to `endpoint`. `pull`: the consumer receives
            messages over HTTP (`…/messages/receive`) and acknowledges them; no endpoint.
        topic (str):
        tag_filter (str):
        timeout_ms (int):
        max_attempts (int):
        concurrency (int):
        ordered (bool):
        dedup_key (DedupKey): What identifies "the same event" for duplicate suppression.
        state (SubscriptionState):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        endpoint (str | Unset): The delivery URL (push subscriptions only).
        paused_reason (str | Unset): Why it is paused (`api`, or `endpoint answered 410 Gone`).
    """

    id: str
    name: str
    mode: SubscriptionMode
    topic: str
    tag_filter: str
    timeout_ms: int
    max_attempts: int
    concurrency: int
    ordered: bool
    dedup_key: DedupKey
    state: SubscriptionState
    created_at: datetime.datetime
    updated_at: datetime.datetime
    endpoint: str | Unset = UNSET
    paused_reason: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        name = self.name

        mode = self.mode.value

        topic = self.topic

        tag_filter = self.tag_filter

        timeout_ms = self.timeout_ms

        max_attempts = self.max_attempts

        concurrency = self.concurrency

        ordered = self.ordered

        dedup_key = self.dedup_key.to_dict()

        state = self.state.value

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        endpoint = self.endpoint

        paused_reason = self.paused_reason

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "mode": mode,
                "topic": topic,
                "tagFilter": tag_filter,
                "timeoutMs": timeout_ms,
                "maxAttempts": max_attempts,
                "concurrency": concurrency,
                "ordered": ordered,
                "dedupKey": dedup_key,
                "state": state,
                "createdAt": created_at,
                "updatedAt": updated_at,
            }
        )
        if endpoint is not UNSET:
            field_dict["endpoint"] = endpoint
        if paused_reason is not UNSET:
            field_dict["pausedReason"] = paused_reason

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.dedup_key import DedupKey

        d = dict(src_dict)
        id = d.pop("id")

        name = d.pop("name")

        mode = SubscriptionMode(d.pop("mode"))

        topic = d.pop("topic")

        tag_filter = d.pop("tagFilter")

        timeout_ms = d.pop("timeoutMs")

        max_attempts = d.pop("maxAttempts")

        concurrency = d.pop("concurrency")

        ordered = d.pop("ordered")

        dedup_key = DedupKey.from_dict(d.pop("dedupKey"))

        state = SubscriptionState(d.pop("state"))

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))

        endpoint = d.pop("endpoint", UNSET)

        paused_reason = d.pop("pausedReason", UNSET)

        subscription = cls(
            id=id,
            name=name,
            mode=mode,
            topic=topic,
            tag_filter=tag_filter,
            timeout_ms=timeout_ms,
            max_attempts=max_attempts,
            concurrency=concurrency,
            ordered=ordered,
            dedup_key=dedup_key,
            state=state,
            created_at=created_at,
            updated_at=updated_at,
            endpoint=endpoint,
            paused_reason=paused_reason,
        )

        subscription.additional_properties = d
        return subscription

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
