"""The one exception every rule module raises: it carries every reason, keyed by field."""

from __future__ import annotations

from typing import NoReturn


class RuleViolation(Exception):
    """Every failed rule at once. ``errors`` maps a form field (or "" for general) to messages."""

    def __init__(self, errors: dict[str, list[str]] | None = None) -> None:
        self.errors: dict[str, list[str]] = {k: list(v) for k, v in (errors or {}).items()}
        super().__init__(str(self))

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            self.args = (str(self),)
            raise self

    @classmethod
    def single(cls, field: str, message: str) -> NoReturn:
        raise cls({field: [message]})

    @property
    def messages(self) -> list[str]:
        return [message for messages in self.errors.values() for message in messages]

    def __bool__(self) -> bool:
        return bool(self.errors)

    def __str__(self) -> str:
        return "; ".join(self.messages)
