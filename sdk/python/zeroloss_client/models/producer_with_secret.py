from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ProducerWithSecret")


@_attrs_define
class ProducerWithSecret:
    """
    Attributes:
        id (str):  Example: prd_01JD2X3Y4Z5A6B7C8D9E0F1G2H.
        name (str):
        check_url (str):
        timeout_ms (int):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        secret (str): The signing secret (`whsec_` + base64). Shown only on create and rotate.
    """

    id: str
    name: str
    check_url: str
    timeout_ms: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    secret: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        name = self.name

        check_url = self.check_url

        timeout_ms = self.timeout_ms

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        secret = self.secret

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "checkUrl": check_url,
                "timeoutMs": timeout_ms,
                "createdAt": created_at,
                "updatedAt": updated_at,
                "secret": secret,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        name = d.pop("name")

        check_url = d.pop("checkUrl")

        timeout_ms = d.pop("timeoutMs")

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))

        secret = d.pop("secret")

        producer_with_secret = cls(
            id=id,
            name=name,
            check_url=check_url,
            timeout_ms=timeout_ms,
            created_at=created_at,
            updated_at=updated_at,
            secret=secret,
        )

        producer_with_secret.additional_properties = d
        return producer_with_secret

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
