"""Jinja filters and globals: Vietnamese dates, the navigation by role."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, current_app, request, url_for
from flask_login import current_user

from bdg_training.clock import local_time  # noqa: E402,F401 - a template filter


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
    ("courses.index", "Lớp tập huấn", frozenset({"admin", "organizer"})),
    ("courses.plans", "Kế hoạch", frozenset({"admin", "organizer"})),
    ("courses.calendar", "Lịch", frozenset({"admin", "organizer"})),
    ("courses.topics", "Chủ đề", frozenset({"admin"})),
    ("courses.catalogue", "Lớp đang mở đăng ký", frozenset({"trainee"})),
    ("enrollment.trainees", "Học viên", frozenset({"admin", "organizer"})),
    ("enrollment.my_courses", "Lớp của tôi", frozenset({"trainee"})),
    ("certificates.index", "Giấy chứng nhận", frozenset({"admin", "organizer", "signer"})),
    ("certificates.register_index", "Sổ cấp GCN", frozenset({"admin", "organizer", "signer"})),
    ("certificates.issuers", "Đơn vị cấp GCN", frozenset({"admin"})),
    ("assessments.questions", "Ngân hàng câu hỏi", frozenset({"admin", "organizer"})),
    ("assessments.my_tests", "Kiểm tra & đánh giá", frozenset({"trainee"})),
    ("certificates.mine", "Giấy chứng nhận của tôi", frozenset({"trainee"})),
    ("checkin.index", "Điểm danh QR", frozenset({"admin", "organizer"})),
    ("checkin.my_code", "Mã điểm danh", frozenset({"trainee"})),
    ("notifications.outbox_index", "Thư đi", frozenset({"admin", "organizer"})),
    ("reports.index", "Báo cáo", frozenset({"admin", "organizer", "signer"})),
]


# Menu groups (dropdowns): an entry whose endpoint is not listed here stands on its own.
NAV_GROUPS: dict[str, str] = {
    "courses.index": "Tập huấn",
    "courses.plans": "Tập huấn",
    "courses.calendar": "Tập huấn",
    "enrollment.trainees": "Tập huấn",
    "assessments.questions": "Tập huấn",
    "checkin.index": "Tập huấn",
    "certificates.index": "Giấy chứng nhận",
    "certificates.register_index": "Giấy chứng nhận",
    "certificates.issuers": "Giấy chứng nhận",
    "units.index": "Quản trị",
    "units.signers": "Quản trị",
    "auth.users": "Quản trị",
    "courses.topics": "Quản trị",
    "notifications.outbox_index": "Quản trị",
    "audit.index": "Quản trị",
}

# Staff menus read left to right in the order of the work; other entries keep NAV_ITEMS order after these.
MENU_ORDER = ["Tập huấn", "Giấy chứng nhận", "Báo cáo", "Quản trị"]


def nav_items() -> list[dict]:
    """The menu of the current user: entries in NAV_ITEMS order, grouped into dropdowns by NAV_GROUPS
    (a group with a single entry for this role is shown as that entry)."""
    if not current_user.is_authenticated:
        return []
    items = [
        {"url": url_for(endpoint), "label": label, "active": False, "group": NAV_GROUPS.get(endpoint)}
        for endpoint, label, roles in NAV_ITEMS
        if current_user.role in roles and endpoint in current_app.view_functions
    ]
    # The active entry is the one whose URL is the longest prefix of the current path.
    matches = [item for item in items if request.path == item["url"] or request.path.startswith(item["url"].rstrip("/") + "/")]
    if matches:
        max(matches, key=lambda item: len(item["url"]))["active"] = True
    menu: list[dict] = []
    groups: dict[str, dict] = {}
    for item in items:
        group = item["group"]
        if group is None:
            menu.append(item)
        elif group in groups:
            groups[group]["children"].append(item)
        else:
            groups[group] = {"label": group, "children": [item]}
            menu.append(groups[group])
    menu.sort(key=lambda entry: MENU_ORDER.index(entry["label"]) if entry["label"] in MENU_ORDER else len(MENU_ORDER))
    for entry in menu:
        if "children" in entry:
            entry["active"] = any(child["active"] for child in entry["children"])
            if len(entry["children"]) == 1:
                entry.update(entry.pop("children")[0])
    return menu


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
