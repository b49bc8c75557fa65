from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.after_dead_letter import AfterDeadLetter
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.retry_schedule import RetrySchedule


T = TypeVar("T", bound="SubscriptionPatch")


@_attrs_define
class SubscriptionPatch:
    """
    Example:
        {'concurrency': 16}

    Attributes:
        name (str | Unset):
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
        timeout_ms (int | Unset):
        max_attempts (int | Unset):
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
        concurrency (int | Unset):
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
    """

    name: str | Unset = UNSET
    endpoint: str | Unset = UNSET
    timeout_ms: int | Unset = UNSET
    max_attempts: int | Unset = UNSET
    retry: RetrySchedule | Unset = UNSET
    concurrency: int | Unset = UNSET
    after_dead_letter: AfterDeadLetter | Unset = UNSET
    rate_limit_per_second: float | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        endpoint = self.endpoint

        timeout_ms = self.timeout_ms

        max_attempts = self.max_attempts

        retry: dict[str, Any] | Unset = UNSET
        if not isinstance(self.retry, Unset):
            retry = self.retry.to_dict()

        concurrency = self.concurrency

        after_dead_letter: str | Unset = UNSET
        if not isinstance(self.after_dead_letter, Unset):
            after_dead_letter = self.after_dead_letter.value

        rate_limit_per_second = self.rate_limit_per_second

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
        if retry is not UNSET:
            field_dict["retry"] = retry
        if concurrency is not UNSET:
            field_dict["concurrency"] = concurrency
        if after_dead_letter is not UNSET:
            field_dict["afterDeadLetter"] = after_dead_letter
        if rate_limit_per_second is not UNSET:
            field_dict["rateLimitPerSecond"] = rate_limit_per_second

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.retry_schedule import RetrySchedule

        d = dict(src_dict)
        name = d.pop("name", UNSET)

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

        _after_dead_letter = d.pop("afterDeadLetter", UNSET)
        after_dead_letter: AfterDeadLetter | Unset
        if isinstance(_after_dead_letter, Unset):
            after_dead_letter = UNSET
        else:
            after_dead_letter = AfterDeadLetter(_after_dead_letter)

        rate_limit_per_second = d.pop("rateLimitPerSecond", UNSET)

        subscription_patch = cls(
            name=name,
            endpoint=endpoint,
            timeout_ms=timeout_ms,
            max_attempts=max_attempts,
            retry=retry,
            concurrency=concurrency,
            after_dead_letter=after_dead_letter,
            rate_limit_per_second=rate_limit_per_second,
        )

        return subscription_patch
