"""Personal API tokens for the read-only statistics API (``/api/v1/stats``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bdg_training.auth.models import User
from bdg_training.database import utcnow
from bdg_training.extensions import db


class ApiToken(db.Model):
    """A personal token of a staff user. Only the SHA-256 of the token is stored (hex, 64 characters); the
    token itself (``secrets.token_urlsafe(32)``) is shown once, when created. The API answers with the
    statistics of the owner's unit subtree, as the owner would see them on screen. A revoked token, or
    the token of an inactive user, is refused."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship()

    @property
    def unit_id(self) -> int | None:
        """The owner's unit: the audit trail files token events there."""
        return self.user.unit_id if self.user else None

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} user={self.user_id} {'revoked' if self.revoked_at else 'active'}>"
