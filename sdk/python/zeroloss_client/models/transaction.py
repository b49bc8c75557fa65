from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.transaction_decided_by import TransactionDecidedBy
from ..models.transaction_state import TransactionState
from ..types import UNSET, Unset

T = TypeVar("T", bound="Transaction")


@_attrs_define
class Transaction:
    """
    Attributes:
        transaction_id (str):  Example: tx_01JD2X3Y4Z5A6B7C8D9E0F1G2H.
        message_id (str):
        producer (str):
        topic (str):
        state (TransactionState): `pending`: stored, undecided. `committed` / `rolled_back`: decided.
            `aborted`: the half message was not confirmed (the begin call answered
            503); any copy the broker kept is rolled back on check-back.
            `unknown_after_max_checks`: no decision arrived before the broker's
            last check-back (transactionCheckMax); the broker discards the half
            message, so it is never consumable.
        created_at (datetime.datetime):
        check_count (int): How often the broker checked the transaction back.
        tag (str | Unset):
        decided_by (TransactionDecidedBy | Unset): Whether a commit/rollback call or a check-back decided it.
        decided_at (datetime.datetime | Unset):
        last_check_outcome (str | Unset): The last check webhook's outcome (commit, rollback, unknown, or why it counted
            as unknown).
        last_check_at (datetime.datetime | Unset):
    """

    transaction_id: str
    message_id: str
    producer: str
    topic: str
    state: TransactionState
    created_at: datetime.datetime
    check_count: int
    tag: str | Unset = UNSET
    decided_by: TransactionDecidedBy | Unset = UNSET
    decided_at: datetime.datetime | Unset = UNSET
    last_check_outcome: str | Unset = UNSET
    last_check_at: datetime.datetime | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        transaction_id = self.transaction_id

        message_id = self.message_id

        producer = self.producer

        topic = self.topic

        state = self.state.value

        created_at = self.created_at.isoformat()

        check_count = self.check_count

        tag = self.tag

        decided_by: str | Unset = UNSET
        if not isinstance(self.decided_by, Unset):
            decided_by = self.decided_by.value

        decided_at: str | Unset = UNSET
        if not isinstance(self.decided_at, Unset):
            decided_at = self.decided_at.isoformat()

        last_check_outcome = self.last_check_outcome

        last_check_at: str | Unset = UNSET
        if not isinstance(self.last_check_at, Unset):
            last_check_at = self.last_check_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "transactionId": transaction_id,
                "messageId": message_id,
                "producer": producer,
                "topic": topic,
                "state": state,
                "createdAt": created_at,
                "checkCount": check_count,
            }
        )
        if tag is not UNSET:
            field_dict["tag"] = tag
        if decided_by is not UNSET:
            field_dict["decidedBy"] = decided_by
        if decided_at is not UNSET:
            field_dict["decidedAt"] = decided_at
        if last_check_outcome is not UNSET:
            field_dict["lastCheckOutcome"] = last_check_outcome
        if last_check_at is not UNSET:
            field_dict["lastCheckAt"] = last_check_at

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        transaction_id = d.pop("transactionId")

        message_id = d.pop("messageId")

        producer = d.pop("producer")

        topic = d.pop("topic")

        state = TransactionState(d.pop("state"))

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        check_count = d.pop("checkCount")

        tag = d.pop("tag", UNSET)

        _decided_by = d.pop("decidedBy", UNSET)
        decided_by: TransactionDecidedBy | Unset
        if isinstance(_decided_by, Unset):
            decided_by = UNSET
        else:
            decided_by = TransactionDecidedBy(_decided_by)

        _decided_at = d.pop("decidedAt", UNSET)
        decided_at: datetime.datetime | Unset
        if isinstance(_decided_at, Unset):
            decided_at = UNSET
        else:
            decided_at = datetime.datetime.fromisoformat(_decided_at)

        last_check_outcome = d.pop("lastCheckOutcome", UNSET)

        _last_check_at = d.pop("lastCheckAt", UNSET)
        last_check_at: datetime.datetime | Unset
        if isinstance(_last_check_at, Unset):
            last_check_at = UNSET
        else:
            last_check_at = datetime.datetime.fromisoformat(_last_check_at)

        transaction = cls(
            transaction_id=transaction_id,
            message_id=message_id,
            producer=producer,
            topic=topic,
            state=state,
            created_at=created_at,
            check_count=check_count,
            tag=tag,
            decided_by=decided_by,
            decided_at=decided_at,
            last_check_outcome=last_check_outcome,
            last_check_at=last_check_at,
        )

        transaction.additional_properties = d
        return transaction

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
