from enum import StrEnum


class TransactionState(StrEnum):
    ABORTED = "aborted"
    COMMITTED = "committed"
    PENDING = "pending"
    ROLLED_BACK = "rolled_back"
    UNKNOWN_AFTER_MAX_CHECKS = "unknown_after_max_checks"

    def __str__(self) -> str:
        return str(self.value)
