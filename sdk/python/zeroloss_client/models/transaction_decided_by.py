from enum import StrEnum


class TransactionDecidedBy(StrEnum):
    API = "api"
    CHECK = "check"

    def __str__(self) -> str:
        return str(self.value)
