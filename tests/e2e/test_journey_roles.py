"""Journey 0: every demo role logs in and sees its own menu."""

from __future__ import annotations

import pytest

MENUS = {
    "admin": ["Đơn vị", "Người ký", "Người dùng", "Nhật ký"],
    "tochuc.codo": ["Đơn vị"],
    "nguoiky.snv": ["Người ký"],
}
NOT_IN_MENU = {
    "tochuc.codo": ["Người dùng", "Nhật ký"],
    "nguoiky.snv": ["Người dùng", "Nhật ký"],
    "hocvien": ["Đơn vị", "Người dùng", "Nhật ký", "Người ký"],
}


@pytest.mark.parametrize("username", ["admin", "tochuc.codo", "nguoiky.snv", "hocvien"])
def test_each_role_sees_its_menu(journey, username):
    journey.login(username)
    nav = journey.page.get_by_role("navigation", name="Điều hướng chính")
    for label in MENUS.get(username, []):
        assert nav.get_by_role("link", name=label, exact=True, include_hidden=True).count() == 1, label
    for label in NOT_IN_MENU.get(username, []):
        assert nav.get_by_role("link", name=label, exact=True, include_hidden=True).count() == 0, label
    journey.check_accessibility()
    journey.shot("home")


def test_login_page_is_keyboard_usable_and_labelled(journey):
    journey.go("/login")
    journey.check_accessibility()
    journey.tab_to("Đăng nhập")
    journey.shot("login")


def test_phone_login_and_unit_tree(phone):
    phone.login("tochuc.codo")
    phone.go("/units/")
    assert phone.page.get_by_text("xã Cờ Đỏ", exact=True).count() >= 1
    assert phone.page.get_by_text("Vĩnh Thạnh").count() == 0
    phone.shot("units")
