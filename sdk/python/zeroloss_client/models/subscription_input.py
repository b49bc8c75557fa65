from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.after_dead_letter import AfterDeadLetter
from ..models.subscription_mode import SubscriptionMode
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.dedup_key import DedupKey
    from ..models.retry_schedule import RetrySchedule


T = TypeVar("T", bound="SubscriptionInput")


@_attrs_define
class SubscriptionInput:
    """
    Example:
        {'name': 'billing', 'topic': 'orders', 'tagFilter': 'created || paid', 'endpoint':
            'https://billing.example.com/zeroloss', 'maxAttempts': 5}

    Attributes:
        name (str):
        topic (str): A RocketMQ topic: 1 to 127 characters of `A-Z a-z 0-9 _ -`, not one
            of RocketMQ's own (`TBW102`, `SCHEDULE_TOPIC_XXXX`, `RMQ_SYS_…` in
            any case, …). A topic that does not exist on the cluster is 404
            `topic-not-found`.
             Example: orders.
        mode (SubscriptionMode | Unset): `push`: the gateway POSTs each message to `endpoint`. `pull`: the consumer
            receives messages over HTTP (`…/messages/receive`) and acknowledges them; no endpoint.
        tag_filter (str | Unset): RocketMQ tag expression: `*` (default, every tag) or tags (see `Tag`) joined by `||`,
            with optional spaces around `||`. Example: created || paid.
        endpoint (str | Unset): An absolute `http` or `https` URL the gateway POSTs to: a host name,
            an IPv4 address or a bracketed IPv6 address, an optional port, a
            path and a query of at most 240 characters or `%` escapes each
            (RFC 3986 characters, `%` only as an escape); no user info, no
            fragment. Loopback, private, link-local, carrier-grade
            NAT, multicast and other non-public addresses (literal, or what a
            name resolves to when the gateway connects) are refused with 400
            `invalid-webhook-url` unless the gateway's `allowPrivateWebhooks`
            setting allows them.
             Example: https://hooks.example.com/zeroloss.
        timeout_ms (int | Unset):  Default: 10000.
        max_attempts (int | Unset): Attempts in all before the message goes to the dead-letter queue; for push the waits
            between them are `retry` (with the default schedule, 8 attempts span about 27.6 h); a pull message received this
            many times without an ack goes to the dead-letter queue instead of a further receive. Default: 8.
        retry (RetrySchedule | Unset): The waits between attempts: an explicit list (`delaysSeconds`, the
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
        concurrency (int | Unset): Deliveries in progress per replica (for an ordered subscription, queues delivered at
            once). Default: 8.
        ordered (bool | Unset): Deliver each queue in order; a message being retried blocks its queue only, on the retry
            schedule. Default: False.
        after_dead_letter (AfterDeadLetter | Unset): Ordered subscriptions only: what a queue does once one of its
            messages used up its attempts (or was refused with a 4xx).
            `continue`: the message goes to the dead-letter queue and the
            queue's next message is delivered (order is kept among the
            delivered ones). `block`: the message is never dead-lettered; it
            stays at the head of its queue, retried at the schedule's last
            wait, and the queue's later messages wait until it is delivered
            (or the subscription is changed to `continue`).
        rate_limit_per_second (float | Unset): Most deliveries per second per replica (fractions allowed); 0 or absent
            is unlimited. Deliveries above it wait; none fails for it.
        dedup_key (DedupKey | Unset): What identifies "the same event" for duplicate suppression.
    """

    name: str
    topic: str
    mode: SubscriptionMode | Unset = UNSET
    tag_filter: str | Unset = UNSET
    endpoint: str | Unset = UNSET
    timeout_ms: int | Unset = 10000
    max_attempts: int | Unset = 8
    retry: RetrySchedule | Unset = UNSET
    concurrency: int | Unset = 8
    ordered: bool | Unset = False
    after_dead_letter: AfterDeadLetter | Unset = UNSET
    rate_limit_per_second: float | Unset = UNSET
    dedup_key: DedupKey | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        topic = self.topic

        mode: str | Unset = UNSET
        if not isinstance(self.mode, Unset):
            mode = self.mode.value

        tag_filter = self.tag_filter

        endpoint = self.endpoint

        timeout_ms = self.timeout_ms

        max_attempts = self.max_attempts

        retry: dict[str, Any] | Unset = UNSET
        if not isinstance(self.retry, Unset):
            retry = self.retry.to_dict()

        concurrency = self.concurrency

        ordered = self.ordered

        after_dead_letter: str | Unset = UNSET
        if not isinstance(self.after_dead_letter, Unset):
            after_dead_letter = self.after_dead_letter.value

        rate_limit_per_second = self.rate_limit_per_second

        dedup_key: dict[str, Any] | Unset = UNSET
        if not isinstance(self.dedup_key, Unset):
            dedup_key = self.dedup_key.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "topic": topic,
            }
        )
        if mode is not UNSET:
            field_dict["mode"] = mode
        if tag_filter is not UNSET:
            field_dict["tagFilter"] = tag_filter
        if endpoint is not UNSET:
            field_dict["endpoint"] = endpoint
        if timeout_ms is not UNSET:
            field_dict["timeoutMs"] = timeout_ms
        if max_attempts is not UNSET:
            field_dict["maxAttempts"] = max_attempts
        if retry is not UNSET:
            field_dict["retry"] = retry
        if concurrency is not UNSET:
            field_dict["concurrency"] = concurrency
        if ordered is not UNSET:
            field_dict["ordered"] = ordered
        if after_dead_letter is not UNSET:
            field_dict["afterDeadLetter"] = after_dead_letter
        if rate_limit_per_second is not UNSET:
            field_dict["rateLimitPerSecond"] = rate_limit_per_second
        if dedup_key is not UNSET:
            field_dict["dedupKey"] = dedup_key

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.dedup_key import DedupKey
        from ..models.retry_schedule import RetrySchedule

        d = dict(src_dict)
        name = d.pop("name")

        topic = d.pop("topic")

        _mode = d.pop("mode", UNSET)
        mode: SubscriptionMode | Unset
        if isinstance(_mode, Unset):
            mode = UNSET
        else:
            mode = SubscriptionMode(_mode)

        tag_filter = d.pop("tagFilter", UNSET)

        endpoint = d.pop("endpoint", UNSET)

        timeout_ms = d.pop("timeoutMs", UNSET)

        max_attempts = d.pop("maxAttempts", UNSET)

        _retry = d.pop("retry", UNSET)
        retry: RetrySchedule | Unset
        if isinstance(_retry, Unset):
            retry = UNSET
        else:
            retry = RetrySchedule.from_dict(_retry)

        concurrency = d.pop("concurrency", UNSET)

        ordered = d.pop("ordered", UNSET)

        _after_dead_letter = d.pop("afterDeadLetter", UNSET)
        after_dead_letter: AfterDeadLetter | Unset
        if isinstance(_after_dead_letter, Unset):
            after_dead_letter = UNSET
        else:
            after_dead_letter = AfterDeadLetter(_after_dead_letter)

        rate_limit_per_second = d.pop("rateLimitPerSecond", UNSET)

        _dedup_key = d.pop("dedupKey", UNSET)
        dedup_key: DedupKey | Unset
        if isinstance(_dedup_key, Unset):
            dedup_key = UNSET
        else:
            dedup_key = DedupKey.from_dict(_dedup_key)

        subscription_input = cls(
            name=name,
            topic=topic,
            mode=mode,
            tag_filter=tag_filter,
            endpoint=endpoint,
            timeout_ms=timeout_ms,
            max_attempts=max_attempts,
            retry=retry,
            concurrency=concurrency,
            ordered=ordered,
            after_dead_letter=after_dead_letter,
            rate_limit_per_second=rate_limit_per_second,
            dedup_key=dedup_key,
        )

        return subscription_input
