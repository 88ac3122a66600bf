"""The outbox, the admin-editable templates, and each user's notification preferences."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bdg_training.database import TimestampMixin, utcnow
from bdg_training.extensions import db
from bdg_training.notifications import rules


def _in(column: str, values) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class OutboxMessage(db.Model):
    """One notification to deliver (transactional outbox).

    It is added to the session of the change that causes it, so it commits — or rolls back — with
    that change; ``flask send-outbox`` (or the background sender) delivers it afterwards. Subject
    and body are rendered when queued: a later template edit does not change a queued message.
    ``dedupe_key`` is unique: the same event never queues twice. ``unit_id``/``course_id`` file the
    message under the course it is about, for the organizers' scoped outbox page.

    ``attachments``: ``[{"filename", "content_type", "data"}]`` with ``data`` base64 (e.g. the
    ``.ics`` of the reminder) — only files about the recipient's own course, never anyone's PDF.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(_in("status", rules.STATUSES), name="status_known"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        Index("ix_outbox_messages_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    event: Mapped[str] = mapped_column(String(50), index=True)
    channel: Mapped[str] = mapped_column(String(20), default="email")
    to_address: Mapped[str] = mapped_column(String(254))
    to_name: Mapped[str | None] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    trainee_id: Mapped[int | None] = mapped_column(ForeignKey("trainees.id", ondelete="SET NULL"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default=rules.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column()
    sent_via: Mapped[str | None] = mapped_column(String(20))  # smtp | console | outbox-only | …
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)

    course = relationship("Course", lazy="raise")

    @property
    def status_label(self) -> str:
        return rules.status_label(self.status)

    @property
    def status_badge(self) -> str:
        return rules.status_badge(self.status)

    @property
    def event_label(self) -> str:
        return rules.event_label(self.event)

    @property
    def kept_only(self) -> bool:
        """Handled by a development backend: nothing actually left the machine."""
        return self.status == rules.SENT and self.sent_via in ("outbox-only", "console")

    @property
    def can_retry(self) -> bool:
        return rules.can_retry(self.status)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.event} {self.status}>"


class NotificationTemplate(TimestampMixin, db.Model):
    """An admin's version of one event's mail (subject and body, Jinja, plain text). Without a
    row the built-in default of :mod:`bdg_training.notifications.defaults` is used."""

    __tablename__ = "notification_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(50), unique=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    updated_by = relationship("User", lazy="joined")


class NotificationPreference(db.Model):
    """A user's choice for one optional event (no row = on). Mandatory events ignore it."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(50))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
