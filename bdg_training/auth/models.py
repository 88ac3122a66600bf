"""Users and roles."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bdg_training.database import TimestampMixin
from bdg_training.extensions import db
from bdg_training.units.models import Unit

ROLES = {
    "admin": "Quản trị hệ thống",
    "organizer": "Cán bộ tổ chức",
    "signer": "Người ký",
    "trainee": "Học viên",
}
STAFF_ROLES = frozenset({"admin", "organizer", "signer"})


def new_session_token() -> str:
    return secrets.token_urlsafe(16)


class User(UserMixin, TimestampMixin, db.Model):
    """A login. Staff (admin, organizer, signer) belong to a unit; a trainee need not.

    ``session_token`` is part of the session id: changing the password or deactivating the
    user rotates it, which logs out every other session of that user.
    """

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'organizer', 'signer', 'trainee')", name="role_known"),
        CheckConstraint("role = 'trainee' OR unit_id IS NOT NULL", name="staff_has_unit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)  # stored lower-case
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    last_login_at: Mapped[datetime | None] = mapped_column()

    unit: Mapped[Unit | None] = relationship(lazy="joined")

    # Flask-Login -------------------------------------------------------------------------
    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return bool(self.active)

    # Roles -----------------------------------------------------------------------------
    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"
