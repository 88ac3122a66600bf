"""QR check-in pages.

Organizers (scoped to their subtree): the session list, the check-in screen with its rotating QR
code and live count (``static/js/checkin.js`` polls ``state``), and the scan page for trainees'
personal codes. Trainees: their personal code, and the confirm step after scanning a screen.

``/checkin/c/<code>`` is public on purpose: the phone may not be signed in yet. It only checks
the code and remembers the scan *in this browser's session* (never in a URL that could be
forwarded) for :data:`rules.SCAN_GRACE`, then sends the person to sign in and on to the confirm
page, which marks them present with a POST (CSRF-protected) — no GET changes anything.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, jsonify, make_response, redirect, render_template, session, url_for
from flask_login import current_user

from bdg_training.access import ensure_in_scope, public, roles_required
from bdg_training.checkin import rules, services
from bdg_training.checkin.forms import ConfirmForm, ScanForm
from bdg_training.database import utcnow
from bdg_training.extensions import db
from bdg_training.forms import apply_rule_errors
from bdg_training.rules_base import RuleViolation
from bdg_training.templating import format_datetime

bp = Blueprint("checkin", __name__, url_prefix="/checkin")

_SCAN_KEY = "checkin_scan"


@bp.app_context_processor
def _template_helpers() -> dict:
    return {"checkin_personal_code": _personal_code_for_template}


def _personal_code_for_template(trainee) -> dict:
    """For ``checkin/_my_courses_code.html``: the trainee's personal code and its QR image."""
    url = services.personal_code_url(trainee.id)
    return {"code": services.personal_code(trainee.id), "url": url, "qr": services.qr_data_uri(url, scale=6)}


def _session_or_404(session_id: int):
    course_session = services.load_session(session_id)
    if course_session is None:
        abort(404)
    ensure_in_scope(course_session.course.unit_id)
    return course_session


def _no_store(response, status: int | None = None):
    response = make_response(response)
    if status is not None:
        response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


# --- organizer ---------------------------------------------------------------------------------
@bp.get("/")
@roles_required("organizer")
def index():
    from bdg_training.courses.services import local_today

    now = utcnow()
    today = local_today(now)
    sessions = services.sessions_for_screen(actor=current_user, first=today - timedelta(days=1), last=today + timedelta(days=7))
    return render_template(
        "checkin/index.html", sessions=sessions, today=today, windows={s.id: services.window_of(s).state(now) for s in sessions}
    )


@bp.get("/sessions/<int:session_id>")
@roles_required("organizer")
def screen(session_id: int):
    course_session = _session_or_404(session_id)
    state = services.screen_state(course_session, utcnow())
    return _no_store(
        render_template(
            "checkin/screen.html",
            s=course_session,
            state=state,
            period=rules.PERIOD_SECONDS,
            attendance_url=_attendance_url(course_session),
        )
    )


@bp.get("/sessions/<int:session_id>/state")
@roles_required("organizer")
def state(session_id: int):
    course_session = _session_or_404(session_id)
    return _no_store(jsonify(services.screen_state(course_session, utcnow()).as_json()))


@bp.route("/sessions/<int:session_id>/scan", methods=["GET", "POST"])
@roles_required("organizer")
def scan(session_id: int):
    course_session = _session_or_404(session_id)
    form = ScanForm()
    if form.validate_on_submit():
        try:
            trainee = services.trainee_from_code(form.code.data)
            result = services.check_in(current_user, course_session, trainee, now=utcnow(), method="scan")
        except RuleViolation as exc:
            apply_rule_errors(form, exc)
        else:
            db.session.commit()
            if result.already:
                flash(f"{trainee.full_name} đã điểm danh buổi này lúc {format_datetime(result.attendance.recorded_at)} rồi.", "info")
            else:
                flash(f"Đã điểm danh có mặt: {trainee.full_name}.", "success")
            return redirect(url_for("checkin.scan", session_id=session_id))
    present, confirmed = services.arrivals(course_session)
    return render_template(
        "checkin/scan.html",
        s=course_session,
        form=form,
        present=present,
        confirmed=confirmed,
        recent=services.recent_arrivals(course_session),
    )


@bp.get("/t/<token>")
@roles_required("organizer")
def personal(token: str):
    """A trainee's personal code opened by the organizer's phone camera: check them in to one of
    today's open sessions in the organizer's scope."""
    try:
        trainee = services.trainee_from_code(token)
    except RuleViolation as exc:
        return render_template("checkin/message.html", title="Mã không hợp lệ", message=str(exc), category="danger"), 400
    sessions = services.open_sessions_for(trainee, now=utcnow(), actor=current_user)
    return render_template("checkin/personal.html", trainee=trainee, sessions=sessions, token=token)


# --- trainee -----------------------------------------------------------------------------------
@bp.get("/c/<token>")
@public
def scan_code(token: str):
    """The URL inside the screen's QR code (public: see the module docstring)."""
    now = utcnow()
    try:
        session_id = services.verify_session_code(token, now)
    except rules.TokenError as exc:
        return _no_store(render_template("checkin/message.html", title="Không điểm danh được", message=str(exc), category="danger"), 400)
    session[_SCAN_KEY] = {"sid": session_id, "at": now.timestamp()}
    if not current_user.is_authenticated:
        flash("Vui lòng đăng nhập để hoàn tất điểm danh.", "info")
        return redirect(url_for("auth.login", next=url_for("checkin.confirm")))
    return redirect(url_for("checkin.confirm"))


def _pending_scan():
    """The session id of this browser's recent scan, or ``None`` (none, or older than the grace)."""
    data = session.get(_SCAN_KEY)
    if not isinstance(data, dict) or not isinstance(data.get("sid"), int) or not isinstance(data.get("at"), int | float):
        return None
    age = utcnow().timestamp() - data["at"]
    if age < 0 or age > rules.SCAN_GRACE.total_seconds():
        return None
    return data["sid"]


@bp.route("/confirm", methods=["GET", "POST"])
def confirm():
    session_id = _pending_scan()
    course_session = services.load_session(session_id) if session_id is not None else None
    if course_session is None:
        session.pop(_SCAN_KEY, None)
        message = "Không có lượt quét mã nào đang chờ (hoặc đã quá 10 phút). Vui lòng quét lại mã QR trên màn hình của lớp."
        return render_template("checkin/message.html", title="Điểm danh", message=message, category="warning"), 400
    trainee = services.trainee_of_user(current_user)
    form = ConfirmForm()
    now = utcnow()
    if form.validate_on_submit():
        try:
            result = services.check_in(current_user, course_session, trainee, now=now, method="qr")
        except RuleViolation as exc:
            problems = exc
        else:
            db.session.commit()
            session.pop(_SCAN_KEY, None)
            flash(
                "Bạn đã điểm danh buổi này trước đó." if result.already else "Điểm danh thành công. Chúc buổi học hiệu quả!",
                "info" if result.already else "success",
            )
            return redirect(url_for("checkin.done", session_id=course_session.id))
    else:
        problems = services.check_in_problems(course_session, trainee, now=now)
    return render_template("checkin/confirm.html", s=course_session, form=form, problems=problems, trainee=trainee)


@bp.get("/done/<int:session_id>")
def done(session_id: int):
    """After a check-in: the trainee's own attendance at that session (nothing of anyone else)."""
    course_session = services.load_session(session_id)
    trainee = services.trainee_of_user(current_user)
    attendance = services.attendance_of(course_session, trainee) if course_session is not None else None
    if attendance is None:
        abort(404)
    return render_template("checkin/done.html", s=course_session, attendance=attendance, trainee=trainee)


@bp.get("/me")
def my_code():
    """The trainee's personal code, for the organizer to scan."""
    trainee = services.trainee_of_user(current_user)
    if trainee is None:
        return render_template(
            "checkin/message.html", title="Mã điểm danh của tôi", message="Tài khoản này không gắn với học viên nào.", category="info"
        )
    url = services.personal_code_url(trainee.id)
    return render_template(
        "checkin/my_code.html", trainee=trainee, url=url, qr=services.qr_data_uri(url, scale=7), code=services.personal_code(trainee.id)
    )


def _attendance_url(course_session) -> str | None:
    """The enrolment feature's attendance grid for this session's course, if it has one."""
    from flask import current_app

    for endpoint, values in (
        ("enrollment.attendance", {"course_id": course_session.course_id}),
        ("enrollment.attendance_grid", {"course_id": course_session.course_id}),
    ):
        if endpoint in current_app.view_functions:
            try:
                return url_for(endpoint, **values)
            except Exception:  # noqa: BLE001 - a different signature: just no link
                continue
    return None
