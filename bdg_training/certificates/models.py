"""Certificates (giấy chứng nhận): issued certificates, their register counters, issuer settings,
versioned templates, eligibility overrides and background print jobs.

Invariants kept by the database itself:

- ``certificates.number`` and ``certificates.verify_code`` are unique; (issuer, year, sequence) is unique, so a
  number is never given twice, and ``certificate_counters`` hands out sequences without gaps (see
  ``services.allocate_sequences``: the counter row is bumped inside the issuing transaction, so a rolled-back
  issue gives its numbers back).
- At most one **valid** certificate per enrolment (a partial unique index): revoked and replaced ones stay in the
  register beside the new one.
- A reissue or duplicate points at the certificate it replaces; an original points at nothing.
- A template version is written once and never updated (each saved edit is a new row).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from bdg_training.auth.models import User
from bdg_training.certificates import rules
from bdg_training.courses.models import Course
from bdg_training.database import TimestampMixin, as_utc, utcnow
from bdg_training.enrollment.models import Enrollment, Trainee
from bdg_training.extensions import db
from bdg_training.units.models import Unit


def _in(column: str, values) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


JOB_STATUSES: dict[str, str] = {
    "queued": "Đang chờ",
    "running": "Đang in",
    "done": "Hoàn tất",
    "failed": "Lỗi",
}
JOB_BADGES = {"queued": "secondary", "running": "primary", "done": "success", "failed": "danger"}
STATUS_BADGES = {"valid": "success", "revoked": "danger", "replaced": "secondary"}
STALE_AFTER = timedelta(minutes=10)


class IssuerSettings(TimestampMixin, db.Model):
    """How one issuing unit prints its certificates: the two header lines of ND 30/2020 (governing body over
    issuing body), the place written in the date line, the number pattern, and the active template version
    (none = the built-in default template)."""

    __tablename__ = "certificate_issuer_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), unique=True)
    governing_body: Mapped[str] = mapped_column(String(200), default="")  # "UBND THÀNH PHỐ CẦN THƠ"
    issuing_body: Mapped[str] = mapped_column(String(200))  # "SỞ NỘI VỤ"
    place_name: Mapped[str] = mapped_column(String(100))  # "Cần Thơ"
    number_pattern: Mapped[str] = mapped_column(String(100), default=rules.DEFAULT_NUMBER_PATTERN)
    result_line: Mapped[str] = mapped_column(String(300), default="Đã hoàn thành khóa tập huấn")
    template_id: Mapped[int | None] = mapped_column(ForeignKey("certificate_templates.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    unit: Mapped[Unit] = relationship()
    template: Mapped[CertificateTemplate | None] = relationship(foreign_keys=[template_id])


class CertificateTemplate(db.Model):
    """One saved version of an issuer's certificate template (HTML of one page, variable ``c``; and its CSS).

    Never updated: an edit is saved as the next ``version``. Certificates point at the version they were printed
    with, so their PDF does not change when the issuer edits the template later.
    """

    __tablename__ = "certificate_templates"
    __table_args__ = (
        UniqueConstraint("unit_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    html: Mapped[str] = mapped_column(Text)
    css: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str | None] = mapped_column(String(300))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship()
    created_by: Mapped[User | None] = relationship()


class CertificateCounter(db.Model):
    """The last sequence handed out per (issuing unit, year). Bumped with ``UPDATE … RETURNING`` inside the
    issuing transaction: concurrent issues wait for each other on the row, and a rollback returns the number."""

    __tablename__ = "certificate_counters"
    __table_args__ = (CheckConstraint("last_seq >= 0", name="last_seq_non_negative"),)

    issuing_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class CertificateOverride(db.Model):
    """A signer's decision that one trainee gets a certificate although attendance or the post-test fell
    short ("xét đặc cách"), with the written reason. Audited; copied onto the certificate when issued."""

    __tablename__ = "certificate_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    enrollment: Mapped[Enrollment] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def unit_id(self) -> int:
        return self.enrollment.course.unit_id


class Certificate(db.Model):
    """An issued certificate: its register number, verification code and the frozen ``snapshot`` of every
    printed field (see ``certificates.render`` for the keys). Printing reads the snapshot and the template
    version only, never the live trainee, course or unit."""

    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("issuing_unit_id", "year", "sequence"),
        CheckConstraint(_in("status", rules.STATUSES), name="status_known"),
        CheckConstraint(_in("kind", rules.KINDS), name="kind_known"),
        CheckConstraint("sequence >= 1", name="sequence_positive"),
        CheckConstraint("(kind = 'original') = (replaces_id IS NULL)", name="replaces_iff_not_original"),
        CheckConstraint("(status = 'revoked') = (revoked_at IS NOT NULL)", name="revoked_at_iff_revoked"),
        Index(
            "uq_certificates_one_valid_per_enrollment",
            "enrollment_id",
            unique=True,
            sqlite_where=text("status = 'valid'"),
            postgresql_where=text("status = 'valid'"),
        ),
        Index("ix_certificates_course_id", "course_id"),
        Index("ix_certificates_trainee_id", "trainee_id"),
        Index("ix_certificates_enrollment_id", "enrollment_id"),
        Index("ix_certificates_replaces_id", "replaces_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="RESTRICT"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="RESTRICT"))
    trainee_id: Mapped[int] = mapped_column(ForeignKey("trainees.id", ondelete="RESTRICT"))
    issuing_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(120), unique=True)
    verify_code: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    snapshot: Mapped[dict] = mapped_column(JSON)
    template_version_id: Mapped[int | None] = mapped_column(ForeignKey("certificate_templates.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(10), default="valid")
    kind: Mapped[str] = mapped_column(String(10), default="original")
    # Why this certificate was issued when it is not an original (the error corrected, the loss reported).
    reason: Mapped[str | None] = mapped_column(Text)
    override_reason: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revocation_reason: Mapped[str | None] = mapped_column(String(20))  # a key of rules.REVOCATION_REASONS
    revocation_note: Mapped[str | None] = mapped_column(Text)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id", ondelete="RESTRICT"))

    enrollment: Mapped[Enrollment] = relationship()
    course: Mapped[Course] = relationship()
    trainee: Mapped[Trainee] = relationship()
    issuing_unit: Mapped[Unit] = relationship()
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])
    template_version: Mapped[CertificateTemplate | None] = relationship()
    replaces: Mapped[Certificate | None] = relationship(remote_side=[id], foreign_keys=[replaces_id], back_populates="replaced_by")
    replaced_by: Mapped[list[Certificate]] = relationship(foreign_keys=[replaces_id], back_populates="replaces", order_by="Certificate.id")

    @property
    def unit_id(self) -> int:
        """The issuer: audit events and the register are filed there."""
        return self.issuing_unit_id

    @property
    def status_label(self) -> str:
        return rules.STATUSES.get(self.status, self.status)

    @property
    def status_badge(self) -> str:
        return STATUS_BADGES.get(self.status, "secondary")

    @property
    def kind_label(self) -> str:
        return rules.KINDS.get(self.kind, self.kind)

    @property
    def revocation_label(self) -> str:
        label = rules.REVOCATION_REASONS.get(self.revocation_reason or "", "")
        return f"{label}: {self.revocation_note}" if self.revocation_note else label

    @property
    def holder_name(self) -> str:
        return (self.snapshot or {}).get("full_name", "")

    def __repr__(self) -> str:
        return f"<Certificate {self.number} {self.status}>"


class CertificateJob(TimestampMixin, db.Model):
    """A background print of many certificates: progress, and the results (merged PDF, ZIP of single PDFs)
    stored in the database so that any app server can serve the downloads."""

    __tablename__ = "certificate_jobs"
    __table_args__ = (
        CheckConstraint(_in("status", JOB_STATUSES), name="status_known"),
        CheckConstraint("done >= 0 AND total >= 0 AND done <= total", name="progress_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    certificate_ids: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    merged_pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    zip_bytes: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))

    course: Mapped[Course] = relationship()
    requested_by: Mapped[User | None] = relationship()

    @property
    def unit_id(self) -> int:
        return self.course.unit_id

    @property
    def status_label(self) -> str:
        return JOB_STATUSES.get(self.status, self.status)

    @property
    def status_badge(self) -> str:
        return JOB_BADGES.get(self.status, "secondary")

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        return int(self.done * 100 / self.total) if self.total else 0

    def is_stale(self, now: datetime) -> bool:
        """Queued or running without any progress for 10 minutes: its process died (a restart, a crash).
        Such a job may be started again; a live one writes progress after every chunk of ≤ 50 pages."""
        return self.status in ("queued", "running") and as_utc(self.updated_at) < now - STALE_AFTER

    def can_retry(self, now: datetime) -> bool:
        return self.status == "failed" or self.is_stale(now)
