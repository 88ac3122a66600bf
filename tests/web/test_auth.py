"""Login, logout, throttling, deactivation, passwords, safe redirects."""

from __future__ import annotations

import pytest

from bdg_training.auth.models import User
from bdg_training.extensions import db
from tests.conftest import fresh, login
from tests.factories import PASSWORD


def _login(client, username, password=PASSWORD, next_url=None):
    url = "/login" + (f"?next={next_url}" if next_url is not None else "")
    return client.post(url, data={"login": username, "password": password})


def test_login_with_username_or_email_then_logout(client, make):
    make.user("organizer", username="tochuc", email="tochuc@example.vn")
    response = _login(client, "tochuc")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/units/").status_code == 200
    client.post("/logout")
    assert client.get("/units/").status_code == 302
    assert _login(client, "TOCHUC@example.vn").status_code == 302


def test_wrong_password_shows_one_vague_message(client, make):
    make.user("organizer", username="tochuc")
    for username in ("tochuc", "khong-ton-tai"):
        response = _login(client, username, "sai-mat-khau")
        assert response.status_code == 200
        assert "Tên đăng nhập hoặc mật khẩu không đúng" in response.get_data(as_text=True)
    assert client.get("/units/").status_code == 302


def test_deactivated_user_cannot_log_in_and_is_logged_out(client, make, app):
    user = make.user("organizer", username="tochuc")
    login(client, user)
    assert client.get("/units/").status_code == 200
    user.active = False
    user.session_token = "rotated"
    db.session.commit()
    assert client.get("/units/").status_code == 302
    assert _login(client, "tochuc").status_code == 200


def test_login_is_throttled_per_account(client, make, app):
    make.user("organizer", username="tochuc")
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "3 per 5 minutes"
    for _ in range(3):
        assert _login(client, "tochuc", "sai").status_code == 200
    response = _login(client, "tochuc")  # even the right password waits now
    assert response.status_code == 429
    assert "quá nhiều" in response.get_data(as_text=True).lower()
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "5 per 5 minutes"


def test_login_is_throttled_per_ip_across_accounts(client, make, app):
    app.config["LOGIN_LIMIT_PER_IP"] = "4 per 5 minutes"
    for i in range(4):
        assert _login(client, f"nguoi{i}", "sai").status_code == 200
    assert _login(client, "nguoi-khac", "sai").status_code == 429
    app.config["LOGIN_LIMIT_PER_IP"] = "20 per 5 minutes"


def test_successful_logins_do_not_count_towards_the_limit(client, make, app):
    make.user("organizer", username="tochuc")
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "2 per 5 minutes"
    for _ in range(4):
        assert _login(client, "tochuc").status_code == 302
        client.post("/logout")
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "5 per 5 minutes"


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/units/", "/units/"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("%2F%2Fevil.example", "/"),
    ],
)
def test_next_redirect_only_within_the_site(client, make, target, expected):
    make.user("organizer", username="tochuc")
    response = _login(client, "tochuc", next_url=target)
    assert response.headers["Location"] == expected


def test_change_password_logs_out_other_sessions(app, make):
    user = make.user("organizer", username="tochuc")
    first, second = app.test_client(), app.test_client()
    login(first, user)
    login(second, user)
    response = first.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "mot-mat-khau-moi", "confirm": "mot-mat-khau-moi"},
    )
    assert response.status_code == 302
    assert first.get("/units/").status_code == 200
    assert second.get("/units/").status_code == 302
    fresh()
    assert _login(app.test_client(), "tochuc", "mot-mat-khau-moi").status_code == 302


def test_change_password_rejects_weak_and_mismatched(client, make):
    user = make.user("organizer", username="tochuc")
    login(client, user)
    response = client.post("/account/password", data={"current_password": "sai", "new_password": "123", "confirm": "456"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Hai mật khẩu không khớp." in html
    response = client.post("/account/password", data={"current_password": "sai", "new_password": "1234567890123", "confirm": "1234567890123"})
    html = response.get_data(as_text=True)
    assert "Mật khẩu hiện tại không đúng." in html
    assert "Mật khẩu không được chỉ gồm chữ số." in html


def test_admin_creates_user_with_temporary_password_that_must_be_changed(client, make, app):
    admin = make.user("admin")
    unit = make.unit("Cờ Đỏ")
    login(client, admin)
    response = client.post("/admin/users/new", data={"username": "Moi.Nguoi", "full_name": "Nguyễn Văn Mới", "role": "organizer", "unit_id": unit.id})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Mật khẩu tạm thời" in html
    fresh()
    user = db.session.scalar(db.select(User).where(User.username == "moi.nguoi"))
    assert user.must_change_password and user.unit_id == unit.id
    newcomer = app.test_client()
    login(newcomer, user)
    response = newcomer.get("/units/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/password")


def test_admin_user_form_shows_errors_and_saves_nothing(client, make):
    admin = make.user("admin")
    login(client, admin)
    response = client.post("/admin/users/new", data={"username": "", "full_name": "", "role": "organizer", "unit_id": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("Trường này là bắt buộc.") >= 2
    fresh()
    assert db.session.scalar(db.select(db.func.count(User.id))) == 1


def test_staff_without_unit_is_refused(client, make):
    admin = make.user("admin")
    login(client, admin)
    response = client.post("/admin/users/new", data={"username": "abc", "full_name": "A B", "role": "organizer", "unit_id": ""})
    assert "Cán bộ phải thuộc một đơn vị." in response.get_data(as_text=True)


def test_admin_deactivates_user_but_not_self(client, make):
    admin = make.user("admin")
    other = make.user("organizer")
    login(client, admin)
    client.post(f"/admin/users/{other.id}/active", data={"active": "0"})
    client.post(f"/admin/users/{admin.id}/active", data={"active": "0"})
    fresh()
    assert db.session.get(User, other.id).active is False
    assert db.session.get(User, admin.id).active is True


def test_organizer_cannot_manage_users(client, make):
    login(client, make.user("organizer"))
    assert client.get("/admin/users").status_code == 403
    assert client.post("/admin/users/new", data={}).status_code == 403
