"""Question bank, pre/post test forms, attempts (online and paper), course evaluation forms.

Invariants kept by the database:

* A question version is a row; ``(root_id, version)`` is unique. A version used by an attempt is never
  edited: editing makes a new row (``version + 1``, same ``root_id``) and marks the old one superseded.
* ``(course_id, kind)`` is unique for test forms: one pre-test and one post-test per course.
* ``(enrollment_id, kind)`` is unique for attempts: **one attempt per test per enrolment**, whatever the
  source, so two parallel "start" requests cannot both create one.
* The evaluation is anonymous: ``EvaluationSubmission`` (who has answered, keyed by enrolment, unique) and
  ``EvaluationResponse`` (what was answered: random id, no enrolment, no time) are separate tables with no
  link between them.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bdg_training.assessments import rules
from bdg_training.auth.models import User
from bdg_training.courses.models import Course, Topic
from bdg_training.database import TimestampMixin, as_utc, utcnow
from bdg_training.enrollment.models import Enrollment
from bdg_training.extensions import db
from bdg_training.units.models import Unit


def _in(column: str, values) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def new_seed() -> str:
    return secrets.token_hex(8)


def new_response_id() -> str:
    return secrets.token_hex(16)


class Question(TimestampMixin, db.Model):
    """One version of a bank question (câu hỏi). ``root_id`` is the id of version 1 (itself for version 1).

    ``unit_id`` is the unit that owns it: every organizer may put any active question on a form, but only
    the owner unit's subtree (and admins) may edit or retire it.
    """

    __tablename__ = "questions"
    __table_args__ = (
        UniqueConstraint("root_id", "version"),
        CheckConstraint(_in("kind", rules.QUESTION_KINDS), name="kind_known"),
        CheckConstraint(_in("status", rules.QUESTION_STATUSES), name="status_known"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("points > 0", name="points_positive"),
        Index("ix_questions_topic_status", "topic_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    root_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id", ondelete="RESTRICT"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="RESTRICT"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    explanation: Mapped[str | None] = mapped_column(Text)
    points: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("1.00"))
    status: Mapped[str] = mapped_column(String(20), default="active")
    search_key: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    topic: Mapped[Topic] = relationship()
    unit: Mapped[Unit | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    options: Mapped[list[Option]] = relationship(back_populates="question", cascade="all, delete-orphan", order_by="Option.position")

    @property
    def kind_label(self) -> str:
        return rules.QUESTION_KINDS.get(self.kind, self.kind)

    @property
    def status_label(self) -> str:
        return rules.QUESTION_STATUSES.get(self.status, self.status)

    @property
    def key_letters(self) -> str:
        return ", ".join(rules.option_letter(i) for i, o in enumerate(self.options) if o.is_correct)

    def as_rule(self) -> rules.Question:
        return rules.Question(self.id, self.kind, frozenset(o.id for o in self.options if o.is_correct), self.points)

    def __repr__(self) -> str:
        return f"<Question {self.id} v{self.version} {self.status}>"


class Option(db.Model):
    """An answer option of a question version; ``position`` 0, 1, … is the letter A, B, … on paper."""

    __tablename__ = "question_options"
    __table_args__ = (UniqueConstraint("question_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    is_correct: Mapped[bool] = mapped_column(Boolean, default=False)

    question: Mapped[Question] = relationship(back_populates="options")

    @property
    def letter(self) -> str:
        return rules.option_letter(self.position)


class TestForm(TimestampMixin, db.Model):
    """The pre- or post-test of a course: its questions (ordered), window and time limit.

    A post-test with ``same_as_pre`` has no questions of its own and uses the pre-test's (the same
    versions); otherwise it lists its own, equivalent questions.
    """

    __tablename__ = "test_forms"
    __table_args__ = (
        UniqueConstraint("course_id", "kind"),
        CheckConstraint(_in("kind", rules.TEST_KINDS), name="kind_known"),
        CheckConstraint("time_limit_minutes IS NULL OR time_limit_minutes > 0", name="time_limit_positive"),
        CheckConstraint("opens_at IS NULL OR closes_at IS NULL OR closes_at > opens_at", name="window_ordered"),
        CheckConstraint("kind = 'post' OR NOT same_as_pre", name="same_as_pre_only_post"),
    )
    __test__ = False  # not a pytest test class, despite its name

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str | None] = mapped_column(String(255))
    instructions: Mapped[str | None] = mapped_column(Text)
    time_limit_minutes: Mapped[int | None] = mapped_column(Integer)
    opens_at: Mapped[datetime | None] = mapped_column()
    closes_at: Mapped[datetime | None] = mapped_column()
    same_as_pre: Mapped[bool] = mapped_column(Boolean, default=False)
    shuffle_questions: Mapped[bool] = mapped_column(Boolean, default=True)
    shuffle_options: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    course: Mapped[Course] = relationship()
    items: Mapped[list[TestFormItem]] = relationship(back_populates="form", cascade="all, delete-orphan", order_by="TestFormItem.position")

    @property
    def unit_id(self) -> int:
        return self.course.unit_id

    @property
    def kind_label(self) -> str:
        return rules.kind_label(self.kind)

    def window_state(self, now: datetime) -> str:
        return rules.window_state(now, as_utc(self.opens_at), as_utc(self.closes_at))

    def __repr__(self) -> str:
        return f"<TestForm {self.id} course={self.course_id} {self.kind}>"


class TestFormItem(db.Model):
    """A question version on a form, in order."""

    __tablename__ = "test_form_items"
    __table_args__ = (UniqueConstraint("form_id", "question_id"),)
    __test__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("test_forms.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(Integer)

    form: Mapped[TestForm] = relationship(back_populates="items")
    question: Mapped[Question] = relationship()


class Attempt(TimestampMixin, db.Model):
    """A trainee's pre- or post-test: online (answered here, scored by the key) or paper (score typed
    by an organizer). One per enrolment and kind (database constraint).

    Online: ``question_ids`` is the form's question list frozen at the start, ``seed`` fixes the shuffled
    order, ``deadline`` is computed once at the start; answers are ``AttemptAnswer`` rows.
    """

    __tablename__ = "attempts"
    __table_args__ = (
        UniqueConstraint("enrollment_id", "kind"),
        CheckConstraint(_in("kind", rules.TEST_KINDS), name="kind_known"),
        CheckConstraint(_in("source", rules.ATTEMPT_SOURCES), name="source_known"),
        CheckConstraint(_in("status", rules.ATTEMPT_STATUSES), name="status_known"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 10)", name="score_range"),
        CheckConstraint("status <> 'completed' OR score IS NOT NULL", name="completed_has_score"),
        CheckConstraint("source <> 'paper' OR status = 'completed'", name="paper_completed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    form_id: Mapped[int | None] = mapped_column(ForeignKey("test_forms.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default=rules.IN_PROGRESS)
    seed: Mapped[str] = mapped_column(String(32), default=new_seed)
    question_ids: Mapped[list] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime | None] = mapped_column()
    deadline: Mapped[datetime | None] = mapped_column()
    submitted_at: Mapped[datetime | None] = mapped_column()
    closed_by_deadline: Mapped[bool] = mapped_column(Boolean, default=False)
    score: Mapped[Decimal | None] = mapped_column(Numeric(4, 2))
    raw_points: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    max_points: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    enrollment: Mapped[Enrollment] = relationship()
    form: Mapped[TestForm | None] = relationship()
    entered_by: Mapped[User | None] = relationship()
    answers: Mapped[list[AttemptAnswer]] = relationship(back_populates="attempt", cascade="all, delete-orphan", passive_deletes=True)

    @property
    def unit_id(self) -> int:
        return self.enrollment.course.unit_id

    @property
    def is_completed(self) -> bool:
        return self.status == rules.COMPLETED

    @property
    def source_label(self) -> str:
        return rules.ATTEMPT_SOURCES.get(self.source, self.source)

    def __repr__(self) -> str:
        return f"<Attempt {self.id} enrollment={self.enrollment_id} {self.kind} {self.source} {self.status}>"


class AttemptAnswer(db.Model):
    """The options chosen for one question of an online attempt (saved as submitted); ``is_correct`` is
    set when the attempt is scored."""

    __tablename__ = "attempt_answers"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="RESTRICT"), index=True)
    chosen: Mapped[list] = mapped_column(JSON, default=list)  # option ids
    is_correct: Mapped[bool | None] = mapped_column(Boolean)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)

    attempt: Mapped[Attempt] = relationship(back_populates="answers")


class EvaluationForm(TimestampMixin, db.Model):
    """The course evaluation form (phiếu đánh giá khóa học): the items the organizer picked (keys of
    ``rules.EVALUATION_ITEMS`` with their label as shown, frozen), whether it takes answers."""

    __tablename__ = "evaluation_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), unique=True)
    items: Mapped[list] = mapped_column(JSON, default=list)  # [{"key": ..., "label": ...}, …]
    allow_comment: Mapped[bool] = mapped_column(Boolean, default=True)
    is_open: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    course: Mapped[Course] = relationship()

    @property
    def unit_id(self) -> int:
        return self.course.unit_id

    @property
    def item_keys(self) -> list[str]:
        return [item["key"] for item in self.items]


class EvaluationSubmission(db.Model):
    """Who has answered (one per enrolment, unique): never linked to what they answered."""

    __tablename__ = "evaluation_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("evaluation_forms.id", ondelete="CASCADE"), index=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"), unique=True)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class EvaluationResponse(db.Model):
    """What was answered, anonymously: a random id (not a sequence, so the order of rows does not match
    the order of submissions), no enrolment, no user, no time."""

    __tablename__ = "evaluation_responses"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_response_id)
    form_id: Mapped[int] = mapped_column(ForeignKey("evaluation_forms.id", ondelete="CASCADE"), index=True)
    ratings: Mapped[dict] = mapped_column(JSON, default=dict)  # item key → 1..5
    comment: Mapped[str | None] = mapped_column(Text)
