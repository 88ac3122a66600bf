"""Users: authentication, creation, password changes. Services flush; callers commit."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from bdg_training.audit.services import diff, record
from bdg_training.auth import rules
from bdg_training.auth.models import ROLES, User, new_session_token
from bdg_training.extensions import db
from bdg_training.rules_base import RuleViolation

# Compared against when the login is unknown, so a wrong login costs as much as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-password", method="pbkdf2:sha256:1000")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def load_user(session_id: str) -> User | None:
    """Flask-Login loader: the id carries the session token, so rotated tokens log out."""
    user_id, _, token = (session_id or "").partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or not secrets.compare_digest(user.session_token, token):
        return None
    return user


def find_by_login(login: str) -> User | None:
    login = rules.normalise_username(login)
    if not login:
        return None
    return db.session.scalar(select(User).where((User.username == login) | (func.lower(User.email) == login)))


def authenticate(login: str, password: str, *, now: datetime) -> User | None:
    """The active user with this login (username or e-mail) and password, else None."""
    user = find_by_login(login)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    user.last_login_at = now
    return user


def generate_temporary_password() -> str:
    return secrets.token_urlsafe(9)


def _check_unique(username: str, email: str | None, exclude_id: int | None = None) -> None:
    errors = RuleViolation()
    query = select(User.id).where(User.username == username)
    if exclude_id:
        query = query.where(User.id != exclude_id)
    if db.session.scalar(query):
        errors.add("username", "Tên đăng nhập đã được sử dụng.")
    if email:
        query = select(User.id).where(func.lower(User.email) == email.lower())
        if exclude_id:
            query = query.where(User.id != exclude_id)
        if db.session.scalar(query):
            errors.add("email", "Email đã được sử dụng.")
    errors.raise_if_any()


def _check_role_unit(role: str, unit_id: int | None) -> None:
    if role not in ROLES:
        RuleViolation.single("role", "Vai trò không hợp lệ.")
    if role != "trainee" and unit_id is None:
        RuleViolation.single("unit_id", "Cán bộ phải thuộc một đơn vị.")


def create_user(
    actor,
    *,
    username: str,
    full_name: str,
    role: str,
    unit_id: int | None,
    password: str,
    email: str | None = None,
    must_change_password: bool = False,
    check_strength: bool = True,
) -> User:
    username = rules.normalise_username(username)
    email = (email or "").strip().lower() or None
    _check_role_unit(role, unit_id)
    if check_strength:
        rules.check_password_strength(password, username=username)
    _check_unique(username, email)
    user = User(
        username=username,
        full_name=full_name,
        email=email,
        role=role,
        unit_id=unit_id,
        password_hash=hash_password(password),
        must_change_password=must_change_password,
    )
    db.session.add(user)
    db.session.flush()
    record(actor, "user.create", user, f"Tạo tài khoản {username} ({ROLES[role]})")
    return user


def update_user(actor, user: User, *, full_name: str, email: str | None, role: str, unit_id: int | None) -> User:
    email = (email or "").strip().lower() or None
    _check_role_unit(role, unit_id)
    _check_unique(user.username, email, exclude_id=user.id)
    before = {"full_name": user.full_name, "email": user.email, "role": user.role, "unit_id": user.unit_id}
    user.full_name, user.email, user.role, user.unit_id = full_name, email, role, unit_id
    after = {"full_name": full_name, "email": email, "role": role, "unit_id": unit_id}
    if before["role"] != role or before["unit_id"] != unit_id:
        user.session_token = new_session_token()  # new rights take effect at the next login
    db.session.flush()
    record(actor, "user.update", user, f"Sửa tài khoản {user.username}", changes=diff(before, after))
    return user


def set_active(actor, user: User, active: bool) -> None:
    if actor is not None and actor.id == user.id and not active:
        RuleViolation.single("", "Không thể tự khóa tài khoản của chính mình.")
    user.active = active
    user.session_token = new_session_token()
    db.session.flush()
    record(actor, "user.activate" if active else "user.deactivate", user, f"{'Mở khóa' if active else 'Khóa'} tài khoản {user.username}")


def change_password(user: User, *, current_password: str, new_password: str) -> None:
    errors = RuleViolation()
    if not check_password_hash(user.password_hash, current_password):
        errors.add("current_password", "Mật khẩu hiện tại không đúng.")
    try:
        rules.check_password_strength(new_password, username=user.username)
    except RuleViolation as exc:
        for message in exc.errors.get("password", []):
            errors.add("new_password", message)
    if current_password and current_password == new_password:
        errors.add("new_password", "Mật khẩu mới phải khác mật khẩu hiện tại.")
    errors.raise_if_any()
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.session_token = new_session_token()
    db.session.flush()
    record(user, "user.change_password", user, f"{user.username} đổi mật khẩu")


def reset_password(actor, user: User) -> str:
    """Set a temporary password (returned once, to show) that must be changed at next login."""
    password = generate_temporary_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.session_token = new_session_token()
    db.session.flush()
    record(actor, "user.reset_password", user, f"Đặt lại mật khẩu cho {user.username}")
    return password

