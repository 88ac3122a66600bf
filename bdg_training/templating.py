"""Jinja filters and globals: Vietnamese dates, the navigation by role."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request, url_for
from flask_login import current_user

from bdg_training.database import as_utc


def local_time(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return as_utc(value).astimezone(ZoneInfo(current_app.config["TIMEZONE"]))


def format_date(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local_time(value).date()
    return value.strftime("%d/%m/%Y") if isinstance(value, date) else str(value)


def format_datetime(value) -> str:
    if value is None:
        return ""
    return local_time(value).strftime("%d/%m/%Y %H:%M")


# (endpoint, label, roles) — the menu a user sees; features append to it.
NAV_ITEMS: list[tuple[str, str, frozenset[str]]] = [
    ("units.index", "Đơn vị", frozenset({"admin", "organizer"})),
    ("units.signers", "Người ký", frozenset({"admin", "signer"})),
    ("auth.users", "Người dùng", frozenset({"admin"})),
    ("audit.index", "Nhật ký", frozenset({"admin"})),
]


def nav_items() -> list[dict]:
    if not current_user.is_authenticated:
        return []
    items = [
        {"url": url_for(endpoint), "label": label, "active": False}
        for endpoint, label, roles in NAV_ITEMS
        if current_user.role in roles and endpoint in current_app.view_functions
    ]
    # The active entry is the one whose URL is the longest prefix of the current path.
    matches = [item for item in items if request.path == item["url"] or request.path.startswith(item["url"].rstrip("/") + "/")]
    if matches:
        max(matches, key=lambda item: len(item["url"]))["active"] = True
    return items


def url_with(**changes) -> str:
    """The current URL with some query arguments changed (pagination, filters)."""
    args = request.args.to_dict()
    args.update({k: v for k, v in changes.items() if v is not None})
    for key in [k for k, v in changes.items() if v is None]:
        args.pop(key, None)
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["d"] = format_date
    app.jinja_env.filters["dt"] = format_datetime
    app.jinja_env.globals.update(nav_items=nav_items, url_with=url_with, app_name=lambda: app.config["APP_NAME"])
