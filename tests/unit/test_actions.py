"""``perform``: a view's write as one transaction — commit on success; on a rule violation roll back
and show the reasons (on the form, or flashed); anything else propagates untouched."""

from __future__ import annotations

import pytest
from flask import get_flashed_messages
from sqlalchemy import func, select
from wtforms import StringField

from bdg_training.actions import Outcome, perform
from bdg_training.courses.models import Topic
from bdg_training.extensions import db
from bdg_training.forms import BaseForm
from bdg_training.rules_base import RuleViolation


class NameForm(BaseForm):
    name = StringField("Tên")


def _add_topic(name: str) -> Topic:
    """What a service does: add a row and send it to the database (not committed)."""
    topic = Topic(name=name)
    db.session.add(topic)
    db.session.flush()
    return topic


def _committed_names() -> list[str]:
    """The topic names another connection sees: only what was committed."""
    with db.engine.connect() as conn:
        return list(conn.scalars(select(Topic.name).order_by(Topic.name)))


def _session_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Topic))


def test_an_outcome_is_true_only_when_ok():
    assert Outcome(True) and Outcome(True, 0) and not Outcome(False)
    assert Outcome(True, "giá trị").value == "giá trị" and Outcome(False).value is None


def test_success_commits_and_returns_the_result(app):
    with app.test_request_context():
        done = perform(lambda: _add_topic("Luật Bình đẳng giới"))
        assert done.ok and bool(done) is True
        assert isinstance(done.value, Topic) and done.value.name == "Luật Bình đẳng giới"
        assert get_flashed_messages() == []
    assert _committed_names() == ["Luật Bình đẳng giới"]
    db.session.rollback()  # nothing left to undo: the row was committed
    assert _session_count() == 1


def test_success_leaves_the_form_alone(app):
    with app.test_request_context(method="POST", data={"name": "Chủ đề"}):
        form = NameForm()
        assert form.validate()
        done = perform(lambda: _add_topic("Phòng chống bạo lực gia đình"), form)
        assert done and form.name.errors == [] and form.form_errors == []
        assert get_flashed_messages() == []
    assert _committed_names() == ["Phòng chống bạo lực gia đình"]


def _violation() -> RuleViolation:
    return RuleViolation({"name": ["Tên chủ đề đã có."], "": ["Không lưu được chủ đề.", "Vui lòng thử lại."]})


def _add_then_refuse():
    _add_topic("Sẽ bị hủy")
    raise _violation()


def test_a_rule_violation_rolls_back_and_flashes_without_a_form(app):
    _add_topic("Đã có từ trước")
    db.session.commit()
    with app.test_request_context():
        done = perform(_add_then_refuse)
        assert not done and done.ok is False and done.value is None
        assert get_flashed_messages(with_categories=True) == [
            ("danger", "Tên chủ đề đã có.; Không lưu được chủ đề.; Vui lòng thử lại.")
        ]
    assert _session_count() == 1  # the row added before the violation is gone from this session
    assert _committed_names() == ["Đã có từ trước"]


def test_a_rule_violation_puts_the_messages_on_the_form(app):
    with app.test_request_context(method="POST", data={"name": "Sẽ bị hủy"}):
        form = NameForm()
        form.validate()
        done = perform(_add_then_refuse, form)
        assert not done
        assert form.name.errors == ["Tên chủ đề đã có."]
        assert form.form_errors == ["Không lưu được chủ đề.", "Vui lòng thử lại."]
        assert get_flashed_messages() == []  # with a form, nothing is flashed
    assert _session_count() == 0
    assert _committed_names() == []


def test_any_other_exception_propagates_without_commit_or_rollback(app):
    def fail():
        _add_topic("Chưa lưu")
        raise ValueError("lỗi khác")

    with app.test_request_context():
        with pytest.raises(ValueError, match="lỗi khác"):
            perform(fail, NameForm())
        assert get_flashed_messages() == []
    assert _session_count() == 1  # not rolled back: still pending in the session…
    assert _committed_names() == []  # …and not committed
