from enum import StrEnum


class DedupKeySource(StrEnum):
    KEY = "key"
    MESSAGE_ID = "message_id"
    NONE = "none"
    PROPERTY = "property"

    def __str__(self) -> str:
        return str(self.value)
