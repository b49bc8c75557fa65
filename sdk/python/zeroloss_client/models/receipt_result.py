from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.problem import Problem


T = TypeVar("T", bound="ReceiptResult")


@_attrs_define
class ReceiptResult:
    """
    Example:
        {'receiptHandle': 'r1.WyJzdWJfMDFKRDJYM1k0WjVBNkI3QzhEOUUwRjFHMkgiXQ', 'ok': False, 'problem': {'type':
            'https://zeroloss.dev/problems/receipt-handle-expired', 'title': 'The receipt handle expired', 'status': 410,
            'detail': 'its invisibility ended; the message may be received again'}}

    Attributes:
        receipt_handle (str): The handle as sent.
        ok (bool):
        new_receipt_handle (str | Unset): The handle that replaces it (extend).
        invisible_until (datetime.datetime | Unset): Until when the message is invisible now (extend, nack).
        problem (Problem | Unset): RFC 9457 problem details. `type` is one of these stable URIs
            (prefix `https://zeroloss.dev/problems/`):

            | type | status | meaning |
            |---|---|---|
            | `validation` | 400 | the request does not match this contract; `errors` names each field |
            | `invalid-json` | 400 | the body is not JSON |
            | `invalid-topic` | 400 | the topic name breaks the naming rule or is reserved |
            | `invalid-webhook-url` | 400 | the check or delivery URL is not http(s), has credentials, or points at a
            refused address |
            | `unauthorized` | 401 | no API key, or an unknown one |
            | `forbidden` | 403 | the API key lacks the scope for this action |
            | `not-found` | 404 | no such route |
            | `topic-not-found` | 404 | the topic does not exist on the cluster |
            | `method-not-allowed` | 405 | the route exists, the method does not |
            | `producer-not-found` | 404 | no such producer for this tenant |
            | `subscription-not-found` | 404 | no such subscription for this tenant |
            | `transaction-not-found` | 404 | no such transaction for this tenant |
            | `transaction-state-conflict` | 409 | the transaction is in another state (e.g. rollback after commit);
            `detail` says which |
            | `subscription-state-conflict` | 409 | the operation needs a pull subscription that is active (receive, ack,
            nack, extend on a push or paused one) |
            | `too-many-receives` | 429 | this replica holds as many receives as it may; retry after `Retry-After` |
            | `receipt-handle-invalid` | 400 | (per handle, in `ReceiptResult.problem`) not a receipt handle of this
            subscription |
            | `receipt-handle-expired` | 410 | (per handle) its invisibility ended: the message may be received again |
            | `idempotency-key-in-use` | 409 | a request with this Idempotency-Key is still running; retry after `Retry-
            After` |
            | `payload-too-large` | 413 | the HTTP body or a decoded message body is over the limit |
            | `properties-too-large` | 413 | the message's encoded properties (tag, keys, sharding key, properties, trace
            context) exceed RocketMQ's 32,767-byte limit less the gateway's reserve (31,743 bytes for the request); nothing
            was sent |
            | `message-rejected` | 422 | the broker refused this message for what it is (MESSAGE_ILLEGAL,
            INVALID_PARAMETER), or a dead letter cannot be sent again; nothing was sent: do not retry it unchanged |
            | `unsupported-media-type` | 415 | the body is not `application/json` |
            | `idempotency-key-mismatch` | 422 | this Idempotency-Key was used with another payload |
            | `send-unconfirmed` | 503 | the broker did not confirm SEND_OK: the message may or may not be stored; retry
            with the same Idempotency-Key |
            | `dependency-unavailable` | 503 | Redis is unreachable, so an Idempotency-Key cannot be honoured; nothing was
            sent |
            | `not-ready` | 503 | readiness failed; `errors` names the failing parts |
            | `internal` | 500 | a bug; the log has the details under the request id |
    """

    receipt_handle: str
    ok: bool
    new_receipt_handle: str | Unset = UNSET
    invisible_until: datetime.datetime | Unset = UNSET
    problem: Problem | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        receipt_handle = self.receipt_handle

        ok = self.ok

        new_receipt_handle = self.new_receipt_handle

        invisible_until: str | Unset = UNSET
        if not isinstance(self.invisible_until, Unset):
            invisible_until = self.invisible_until.isoformat()

        problem: dict[str, Any] | Unset = UNSET
        if not isinstance(self.problem, Unset):
            problem = self.problem.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "receiptHandle": receipt_handle,
                "ok": ok,
            }
        )
        if new_receipt_handle is not UNSET:
            field_dict["newReceiptHandle"] = new_receipt_handle
        if invisible_until is not UNSET:
            field_dict["invisibleUntil"] = invisible_until
        if problem is not UNSET:
            field_dict["problem"] = problem

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.problem import Problem

        d = dict(src_dict)
        receipt_handle = d.pop("receiptHandle")

        ok = d.pop("ok")

        new_receipt_handle = d.pop("newReceiptHandle", UNSET)

        _invisible_until = d.pop("invisibleUntil", UNSET)
        invisible_until: datetime.datetime | Unset
        if isinstance(_invisible_until, Unset):
            invisible_until = UNSET
        else:
            invisible_until = datetime.datetime.fromisoformat(_invisible_until)

        _problem = d.pop("problem", UNSET)
        problem: Problem | Unset
        if isinstance(_problem, Unset):
            problem = UNSET
        else:
            problem = Problem.from_dict(_problem)

        receipt_result = cls(
            receipt_handle=receipt_handle,
            ok=ok,
            new_receipt_handle=new_receipt_handle,
            invisible_until=invisible_until,
            problem=problem,
        )

        receipt_result.additional_properties = d
        return receipt_result

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
