"""Trainees (học viên), their enrolments in courses, attendance per session, import batches."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from bdg_training.auth.models import User
from bdg_training.courses.models import Course, CourseSession
from bdg_training.database import TimestampMixin, utcnow
from bdg_training.enrollment import rules
from bdg_training.ethnicity import CODE_LIST, ethnicity_by_code
from bdg_training.extensions import db
from bdg_training.text import fold, name_sort_key, tone_key
from bdg_training.units.models import Unit
from bdg_training.vn import display_phone, mask_id


def _in(column: str, values) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class Trainee(TimestampMixin, db.Model):
    """A person trained (DESIGN §2). Names are stored as entered (NFC) in three parts plus the full
    name as written; ``name_fold`` / ``name_tone_key`` / ``sort_key`` are derived keys for search,
    duplicate checks and the Vietnamese class-list order (kept in step by :meth:`refresh_keys`).

    ``birth_year`` is always set when ``birth_date`` is; a year alone (community members) leaves
    ``birth_date`` empty. ``unit_id`` is the trainee's residence/work unit in the tree (reports,
    organizer scope); ``work_unit`` is the free text they wrote.
    """

    __tablename__ = "trainees"
    __table_args__ = (
        CheckConstraint(_in("sex", rules.SEXES), name="sex_known"),
        CheckConstraint("target_group IS NULL OR " + _in("target_group", rules.TARGET_GROUPS), name="target_group_known"),
        CheckConstraint("birth_year IS NULL OR (birth_year >= 1900 AND birth_year <= 2200)", name="birth_year_range"),
        CheckConstraint("birth_date IS NULL OR birth_year IS NOT NULL", name="birth_year_with_date"),
        CheckConstraint("ethnicity_code IS NULL OR ethnicity_code_list IS NOT NULL", name="ethnicity_with_code_list"),
        Index("ix_trainees_name_fold", "name_fold"),
        Index("ix_trainees_duplicate", "name_fold", "birth_year", "sex"),
        Index("ix_trainees_sort_key", "sort_key"),
        Index("ix_trainees_phone", "phone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    family_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str] = mapped_column(String(100), default="")
    given_name: Mapped[str] = mapped_column(String(100))
    full_name: Mapped[str] = mapped_column(String(200))
    sex: Mapped[str] = mapped_column(String(3))
    birth_date: Mapped[date | None] = mapped_column(Date)
    birth_year: Mapped[int | None] = mapped_column(Integer)
    ethnicity_code: Mapped[str | None] = mapped_column(String(4))
    ethnicity_code_list: Mapped[str | None] = mapped_column(String(20))
    personal_id: Mapped[str | None] = mapped_column(String(12), unique=True)
    cmnd: Mapped[str | None] = mapped_column(String(12), index=True)
    phone: Mapped[str | None] = mapped_column(String(16))  # E.164, +84…
    email: Mapped[str | None] = mapped_column(String(254))
    work_unit: Mapped[str | None] = mapped_column(String(300))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    position: Mapped[str | None] = mapped_column(String(200))
    target_group: Mapped[str | None] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    consent_at: Mapped[datetime | None] = mapped_column()  # privacy notice accepted (self sign-up)
    name_fold: Mapped[str] = mapped_column(String(200))
    name_tone_key: Mapped[str] = mapped_column(String(200))
    sort_key: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    unit: Mapped[Unit | None] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id], backref=backref("trainee", uselist=False))
    enrollments: Mapped[list[Enrollment]] = relationship(back_populates="trainee", order_by="Enrollment.id")

    def refresh_keys(self) -> None:
        """Recompute the search, duplicate and sort keys from the names."""
        self.name_fold = fold(self.full_name)[:200]
        self.name_tone_key = tone_key(self.full_name)[:200]
        self.sort_key = rules.encode_sort_key(name_sort_key(self.given_name, self.middle_name, self.family_name))

    @property
    def sex_label(self) -> str:
        return rules.SEXES.get(self.sex, self.sex)

    @property
    def birth_display(self) -> str:
        return rules.format_birth(self.birth_date, self.birth_year)

    @property
    def ethnicity_name(self) -> str:
        found = ethnicity_by_code(self.ethnicity_code) if self.ethnicity_code_list == CODE_LIST else None
        return found.name if found else (self.ethnicity_code or "")

    @property
    def target_group_label(self) -> str:
        return rules.TARGET_GROUPS.get(self.target_group or "", "")

    @property
    def phone_display(self) -> str:
        return display_phone(self.phone)

    @property
    def masked_id(self) -> str:
        """The personal ID (or the legacy CMND) with only its last 4 digits shown."""
        return mask_id(self.personal_id or self.cmnd)

    @property
    def masked_cmnd(self) -> str:
        return mask_id(self.cmnd)

    def name_key(self):
        """Class-list order: tên → tên đệm → họ (ICU ``vi``), then date of birth."""
        return (name_sort_key(self.given_name, self.middle_name, self.family_name), self.birth_date or date.min, self.id or 0)

    def __repr__(self) -> str:
        return f"<Trainee {self.id} {self.full_name}>"


class Enrollment(TimestampMixin, db.Model):
    """A trainee in a course (ghi danh): course × trainee is unique; a withdrawn row is reactivated
    rather than duplicated. ``waitlist_position`` is set exactly when the status is waitlisted."""

    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("course_id", "trainee_id"),
        CheckConstraint(_in("status", rules.ENROLLMENT_STATUSES), name="status_known"),
        CheckConstraint(_in("source", rules.ENROLLMENT_SOURCE_LABELS), name="source_known"),
        CheckConstraint(
            "(status = 'waitlisted' AND waitlist_position IS NOT NULL AND waitlist_position >= 1)"
            " OR (status <> 'waitlisted' AND waitlist_position IS NULL)",
            name="waitlist_position_iff_waitlisted",
        ),
        Index("ix_enrollments_course_status", "course_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    trainee_id: Mapped[int] = mapped_column(ForeignKey("trainees.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    waitlist_position: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(20))
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column()
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    note: Mapped[str | None] = mapped_column(Text)

    course: Mapped[Course] = relationship()
    trainee: Mapped[Trainee] = relationship(back_populates="enrollments")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    attendances: Mapped[list[Attendance]] = relationship(back_populates="enrollment", cascade="all, delete-orphan", passive_deletes=True)

    @property
    def unit_id(self) -> int:
        """The course's unit: the audit trail and the scope checks file an enrolment there."""
        return self.course.unit_id

    @property
    def status_label(self) -> str:
        return rules.status_label(self.status)

    @property
    def status_badge(self) -> str:
        return rules.status_badge(self.status)

    @property
    def source_label(self) -> str:
        return rules.ENROLLMENT_SOURCE_LABELS.get(self.source, self.source)

    @property
    def is_active(self) -> bool:
        return self.status in rules.ACTIVE_STATUSES

    def __repr__(self) -> str:
        return f"<Enrollment {self.id} course={self.course_id} trainee={self.trainee_id} {self.status}>"


class Attendance(db.Model):
    """Attendance of one enrolment at one session: present / absent / excused."""

    __tablename__ = "attendances"
    __table_args__ = (
        UniqueConstraint("enrollment_id", "session_id"),
        CheckConstraint(_in("status", rules.ATTENDANCE_STATUSES), name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("course_sessions.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    enrollment: Mapped[Enrollment] = relationship(back_populates="attendances")
    session: Mapped[CourseSession] = relationship()


class ImportBatch(db.Model):
    """An uploaded trainee list waiting for the organizer's confirmation (preview → commit).

    The raw cells are kept here, not on the app server, so any worker can show the preview and
    commit it. A batch is deleted when committed; stale ones are purged on the next upload.
    """

    __tablename__ = "enrollment_import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    headers: Mapped[list] = mapped_column(JSON)
    rows: Mapped[list] = mapped_column(JSON)  # [[line_no, [cell, …]], …], cells as text (dates ISO)
    encoding: Mapped[str | None] = mapped_column(String(10))  # legacy encoding detected
    convert: Mapped[bool] = mapped_column(default=False)  # the user asked to convert it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[Course] = relationship()

    @property
    def unit_id(self) -> int:
        return self.course.unit_id
