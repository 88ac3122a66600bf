"""Running one write of a view as the request's transaction.

Most views that change something do the same thing: call a service, commit if it succeeded, and
on a :class:`~bdg_training.rules_base.RuleViolation` roll back and show the reasons (on the form's
fields, or as a flash message). :func:`perform` does exactly that, so the view keeps only what is
its own: what to call, and what to say and where to go afterwards::

    if form.validate_on_submit():
        done = perform(lambda: services.create_topic(current_user, **_topic_values(form)), form)
        if done:
            flash(f"Đã thêm chủ đề “{done.value.name}”.", "success")
            return redirect(url_for("courses.topics"))
    return render_template(...)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import flash

from bdg_training.extensions import db
from bdg_training.forms import apply_rule_errors
from bdg_training.rules_base import RuleViolation

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome:
    """What :func:`perform` did: ``ok`` (also the truth value) and, when ok, what the action returned."""

    ok: bool
    value: Any = None

    def __bool__(self) -> bool:
        return self.ok


def perform(action: Callable[[], T], form=None) -> Outcome:
    """Run ``action()`` as the request's transaction.

    - It returns normally: ``db.session.commit()``, then ``Outcome(True, <its result>)``.
    - It raises :class:`RuleViolation`: ``db.session.rollback()``, then the messages are shown —
      on ``form`` (each on its field, the rest as form-level errors; see
      :func:`bdg_training.forms.apply_rule_errors`) when one is given, otherwise as one
      ``flash(str(exc), "danger")`` — and ``Outcome(False)`` is returned.
    - Any other exception (``abort(404)`` inside the action, a database error, …) is not caught:
      it propagates untouched, without commit or rollback, exactly as it would without this helper.

    The commit runs outside the ``except``: an error while committing propagates too.
    """
    try:
        result = action()
    except RuleViolation as exc:
        db.session.rollback()
        if form is not None:
            apply_rule_errors(form, exc)
        else:
            flash(str(exc), "danger")
        return Outcome(False)
    db.session.commit()
    return Outcome(True, result)


__all__ = ["Outcome", "perform"]
