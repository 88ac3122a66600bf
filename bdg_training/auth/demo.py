"""Demo logins, one per role (idempotent). Passwords are generated, never stored in the repo."""

from __future__ import annotations

from sqlalchemy import select

from bdg_training.auth.models import User
from bdg_training.auth.services import hash_password
from bdg_training.extensions import db

# (username, full name, role, unit key from units.demo.seed)
DEMO_USERS = [
    ("admin", "Quản trị hệ thống", "admin", "city"),
    ("tochuc.thanhpho", "Phạm Thị Ngọc Hân", "organizer", "city"),
    ("tochuc.codo", "Võ Thị Kim Thoa", "organizer", "xa:Cờ Đỏ"),
    ("tochuc.vinhthanh", "Đặng Văn Tâm", "organizer", "xa:Vĩnh Thạnh"),
    ("nguoiky.snv", "Trần Thị Mỹ Linh", "signer", "snv"),
    ("nguoiky.codo", "Lê Văn Hùng", "signer", "xa:Cờ Đỏ"),
    ("hocvien", "Thạch Thị Sa Rươl", "trainee", None),
]


def seed(units: dict, passwords: dict[str, str]) -> dict[str, User]:
    """Create missing demo users with the given passwords; existing users keep theirs."""
    users: dict[str, User] = {}
    for username, full_name, role, unit_key in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(
                username=username,
                full_name=full_name,
                role=role,
                unit_id=units[unit_key].id if unit_key else None,
                password_hash=hash_password(passwords[username]),
            )
            db.session.add(user)
        users[username] = user
    db.session.flush()
    return users
