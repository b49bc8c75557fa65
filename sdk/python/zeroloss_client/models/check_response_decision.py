from enum import StrEnum


class CheckResponseDecision(StrEnum):
    COMMIT = "commit"
    ROLLBACK = "rollback"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return str(self.value)
