from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.after_dead_letter import AfterDeadLetter
from ..models.subscription_mode import SubscriptionMode
from ..models.subscription_state import SubscriptionState
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.dedup_key import DedupKey
    from ..models.retry_schedule import RetrySchedule


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
        retry (RetrySchedule): The waits between attempts: an explicit list (`delaysSeconds`, the
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
             Example: {'delaysSeconds': [5, 300, 1800, 7200, 18000, 36000, 36000]}.
        concurrency (int):
        ordered (bool):
        after_dead_letter (AfterDeadLetter): Ordered subscriptions only: what a queue does once one of its
            messages used up its attempts (or was refused with a 4xx).
            `continue`: the message goes to the dead-letter queue and the
            queue's next message is delivered (order is kept among the
            delivered ones). `block`: the message is never dead-lettered; it
            stays at the head of its queue, retried at the schedule's last
            wait, and the queue's later messages wait until it is delivered
            (or the subscription is changed to `continue`).
        dedup_key (DedupKey): What identifies "the same event" for duplicate suppression.
        state (SubscriptionState):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        endpoint (str | Unset): The delivery URL (push subscriptions only).
        rate_limit_per_second (float | Unset): Deliveries per second per replica; absent when unlimited.
        paused_reason (str | Unset): Why it is paused (`api`, or `endpoint answered 410 Gone`).
    """

    id: str
    name: str
    mode: SubscriptionMode
    topic: str
    tag_filter: str
    timeout_ms: int
    max_attempts: int
    retry: RetrySchedule
    concurrency: int
    ordered: bool
    after_dead_letter: AfterDeadLetter
    dedup_key: DedupKey
    state: SubscriptionState
    created_at: datetime.datetime
    updated_at: datetime.datetime
    endpoint: str | Unset = UNSET
    rate_limit_per_second: float | Unset = UNSET
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

        retry = self.retry.to_dict()

        concurrency = self.concurrency

        ordered = self.ordered

        after_dead_letter = self.after_dead_letter.value

        dedup_key = self.dedup_key.to_dict()

        state = self.state.value

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        endpoint = self.endpoint

        rate_limit_per_second = self.rate_limit_per_second

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
                "retry": retry,
                "concurrency": concurrency,
                "ordered": ordered,
                "afterDeadLetter": after_dead_letter,
                "dedupKey": dedup_key,
                "state": state,
                "createdAt": created_at,
                "updatedAt": updated_at,
            }
        )
        if endpoint is not UNSET:
            field_dict["endpoint"] = endpoint
        if rate_limit_per_second is not UNSET:
            field_dict["rateLimitPerSecond"] = rate_limit_per_second
        if paused_reason is not UNSET:
            field_dict["pausedReason"] = paused_reason

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.dedup_key import DedupKey
        from ..models.retry_schedule import RetrySchedule

        d = dict(src_dict)
        id = d.pop("id")

        name = d.pop("name")

        mode = SubscriptionMode(d.pop("mode"))

        topic = d.pop("topic")

        tag_filter = d.pop("tagFilter")

        timeout_ms = d.pop("timeoutMs")

        max_attempts = d.pop("maxAttempts")

        retry = RetrySchedule.from_dict(d.pop("retry"))

        concurrency = d.pop("concurrency")

        ordered = d.pop("ordered")

        after_dead_letter = AfterDeadLetter(d.pop("afterDeadLetter"))

        dedup_key = DedupKey.from_dict(d.pop("dedupKey"))

        state = SubscriptionState(d.pop("state"))

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))

        endpoint = d.pop("endpoint", UNSET)

        rate_limit_per_second = d.pop("rateLimitPerSecond", UNSET)

        paused_reason = d.pop("pausedReason", UNSET)

        subscription = cls(
            id=id,
            name=name,
            mode=mode,
            topic=topic,
            tag_filter=tag_filter,
            timeout_ms=timeout_ms,
            max_attempts=max_attempts,
            retry=retry,
            concurrency=concurrency,
            ordered=ordered,
            after_dead_letter=after_dead_letter,
            dedup_key=dedup_key,
            state=state,
            created_at=created_at,
            updated_at=updated_at,
            endpoint=endpoint,
            rate_limit_per_second=rate_limit_per_second,
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
