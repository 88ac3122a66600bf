"""Annual training plans, topics, courses and their sessions."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from bdg_training.courses import rules
from bdg_training.database import TimestampMixin
from bdg_training.extensions import db
from bdg_training.text import fold
from bdg_training.units.models import Signer, Unit


class Topic(TimestampMixin, db.Model):
    """A course topic (chủ đề), admin-managed: luật BĐG, phòng ngừa BLGĐ, …"""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TrainingPlan(TimestampMixin, db.Model):
    """A unit's annual plan (kế hoạch năm): planned courses, trainees and share of women."""

    __tablename__ = "training_plans"
    __table_args__ = (
        UniqueConstraint("unit_id", "year"),
        CheckConstraint("planned_courses >= 0", name="courses_non_negative"),
        CheckConstraint("planned_trainees >= 0", name="trainees_non_negative"),
        CheckConstraint("planned_female_pct IS NULL OR (planned_female_pct >= 0 AND planned_female_pct <= 100)", name="female_pct_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    planned_courses: Mapped[int] = mapped_column(Integer, default=0)
    planned_trainees: Mapped[int] = mapped_column(Integer, default=0)
    planned_female_pct: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    source_document: Mapped[str | None] = mapped_column(String(300))  # the plan's own decision, e.g. "KH số 12/KH-UBND"
    note: Mapped[str | None] = mapped_column(Text)

    unit: Mapped[Unit] = relationship()
    targets: Mapped[list[PlanTarget]] = relationship(back_populates="plan", cascade="all, delete-orphan", order_by="PlanTarget.id")
    courses: Mapped[list[Course]] = relationship(back_populates="plan")


class PlanTarget(db.Model):
    """A free-form target of a plan: indicator, source document (28/NQ-CP, 1790/QĐ-TTg…), value."""

    __tablename__ = "plan_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("training_plans.id", ondelete="CASCADE"), index=True)
    indicator: Mapped[str] = mapped_column(String(300))
    source_document: Mapped[str | None] = mapped_column(String(300))
    target_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    measure: Mapped[str | None] = mapped_column(String(50))  # "%", "lớp", "người", …
    actual_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    note: Mapped[str | None] = mapped_column(Text)

    plan: Mapped[TrainingPlan] = relationship(back_populates="targets")


class Course(TimestampMixin, db.Model):
    """A training course (lớp tập huấn) of an organizing unit, with its life cycle (see rules)."""

    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint("capacity >= 1", name="capacity_positive"),
        CheckConstraint("end_date >= start_date", name="dates_ordered"),
        CheckConstraint("pass_mark >= 0 AND pass_mark <= 10", name="pass_mark_range"),
        CheckConstraint("min_attendance_pct >= 0 AND min_attendance_pct <= 100", name="attendance_range"),
        CheckConstraint("status IN (" + ", ".join(f"'{s}'" for s in rules.COURSE_STATUSES) + ")", name="status_known"),
        Index("ix_courses_unit_start", "unit_id", "start_date"),
        Index("ix_courses_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="RESTRICT"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("training_plans.id", ondelete="SET NULL"), index=True)
    funding_source: Mapped[str | None] = mapped_column(String(200))
    venue: Mapped[str | None] = mapped_column(String(300))
    capacity: Mapped[int] = mapped_column(Integer)
    reg_opens_at: Mapped[datetime | None] = mapped_column()
    reg_closes_at: Mapped[datetime | None] = mapped_column()
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 1))
    target_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str | None] = mapped_column(Text)
    pass_mark: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal("5.00"))
    min_attendance_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("80.00"))
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    issuing_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    signer_id: Mapped[int | None] = mapped_column(ForeignKey("signers.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(20), default=rules.DRAFT)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    cloned_from_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))
    # First time the course was opened for registration: from then on it is public (rules.is_public).
    published_at: Mapped[datetime | None] = mapped_column()
    # fold(title + " " + code): case- and diacritic-insensitive search; kept in step by _fill_search_key.
    search_key: Mapped[str] = mapped_column(String(400), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    topic: Mapped[Topic | None] = relationship()
    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])
    issuing_unit: Mapped[Unit | None] = relationship(foreign_keys=[issuing_unit_id])
    signer: Mapped[Signer | None] = relationship()
    plan: Mapped[TrainingPlan | None] = relationship(back_populates="courses")
    sessions: Mapped[list[CourseSession]] = relationship(
        back_populates="course", cascade="all, delete-orphan", order_by="(CourseSession.date, CourseSession.start_time)"
    )

    @validates("title", "code")
    def _fill_search_key(self, key: str, value: str) -> str:
        title = value if key == "title" else self.title
        code = value if key == "code" else self.code
        self.search_key = fold(f"{title or ''} {code or ''}")[:400]
        return value

    @property
    def is_public(self) -> bool:
        return rules.is_public(self.status, self.published_at is not None)

    @property
    def status_label(self) -> str:
        return rules.status_label(self.status)

    @property
    def status_badge(self) -> str:
        return rules.status_badge(self.status)

    def __repr__(self) -> str:
        return f"<Course {self.code} {self.status}>"


class CourseSession(db.Model):
    """One session (buổi học) of a course; ``venue`` empty means the course's venue."""

    __tablename__ = "course_sessions"
    __table_args__ = (
        CheckConstraint("end_time > start_time", name="times_ordered"),
        Index("ix_course_sessions_date", "date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    subject: Mapped[str | None] = mapped_column(String(300))
    trainer: Mapped[str | None] = mapped_column(String(200))
    venue: Mapped[str | None] = mapped_column(String(300))

    course: Mapped[Course] = relationship(back_populates="sessions")

    @property
    def effective_venue(self) -> str:
        return self.venue or (self.course.venue if self.course else "") or ""
