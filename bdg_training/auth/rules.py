"""Password and login rules. Pure."""

from __future__ import annotations

from urllib.parse import urlsplit

from bdg_training.rules_base import RuleViolation

MIN_PASSWORD_LENGTH = 10


def check_password_strength(password: str, *, username: str = "") -> None:
    """At least 10 characters, not only digits, not containing the login name."""
    errors = RuleViolation()
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.add("password", f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự.")
    elif password.isdigit():
        errors.add("password", "Mật khẩu không được chỉ gồm chữ số.")
    if username and len(username) >= 3 and username.casefold() in password.casefold():
        errors.add("password", "Mật khẩu không được chứa tên đăng nhập.")
    errors.raise_if_any()


def is_safe_next(target: str | None) -> bool:
    """Only redirect to a path on this site: "/courses?x=1" yes; "//evil", "http://evil", "\\\\evil" no."""
    if not target:
        return False
    if any(ch in target for ch in ("\\", "\r", "\n", "\t")) or not target.startswith("/") or target.startswith("//"):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def normalise_username(username: str) -> str:
    return username.strip().casefold()
