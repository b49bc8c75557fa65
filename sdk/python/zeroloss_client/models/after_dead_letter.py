from enum import StrEnum


class AfterDeadLetter(StrEnum):
    BLOCK = "block"
    CONTINUE = "continue"

    def __str__(self) -> str:
        return str(self.value)
