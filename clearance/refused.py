"""The one exception the rules raise when a change is not allowed."""


class Refused(Exception):
    """A change that the rules do not allow; str() is the message for the person, and nothing was changed."""


class RowError:
    """A refused line of an uploaded list or file: its line number and what is wrong with it."""

    __slots__ = ("line", "message")

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RowError) and (self.line, self.message) == (other.line, other.message)

    def __hash__(self) -> int:
        return hash((self.line, self.message))

    def __repr__(self) -> str:
        return f"RowError({self.line!r}, {self.message!r})"

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"
