"""Notification pages: preferences (everyone), the outbox and the development mailbox
(organizers: their courses; admins: everything), and the mail templates (admins)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from bdg_training.access import admin_required, get_scoped_or_404, roles_required
from bdg_training.auth.rules import is_safe_next
from bdg_training.database import utcnow
from bdg_training.downloads import attachment
from bdg_training.extensions import db
from bdg_training.forms import apply_rule_errors
from bdg_training.notifications import outbox, rules, services
from bdg_training.notifications.delivery import MAIL_BACKENDS, mail_backend
from bdg_training.notifications.forms import PreferencesForm, TemplateForm
from bdg_training.notifications.models import OutboxMessage
from bdg_training.rules_base import RuleViolation

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.record_once
def _setup(state) -> None:
    """CLI commands, and the background sender when ``OUTBOX_BACKGROUND`` is on (started with
    the first request, so ``flask db upgrade`` & co. never start a thread)."""
    from bdg_training.notifications import commands

    app = state.app
    backend = str(app.config.get("MAIL_BACKEND") or "outbox-only").strip().lower()
    if backend not in MAIL_BACKENDS:
        raise RuntimeError(f"MAIL_BACKEND không hợp lệ: {backend!r} (smtp | console | outbox-only)")
    commands.init_app(app)
    if app.config.get("OUTBOX_BACKGROUND") and not app.testing:

        @app.before_request
        def _start_outbox_sender():
            outbox.start_background_sender(app)


# --- preferences -------------------------------------------------------------------------------
@bp.route("/preferences", methods=["GET", "POST"])
def preferences():
    form = PreferencesForm()
    current = services.preferences_for(current_user.id)
    if request.method == "GET":
        for event in rules.OPTIONAL_EVENTS:
            getattr(form, event).data = current.get(event, True)
    if form.validate_on_submit():
        changed = services.set_preferences(current_user, current_user, {e: getattr(form, e).data for e in rules.OPTIONAL_EVENTS})
        db.session.commit()
        flash("Đã lưu lựa chọn thông báo." if changed else "Không có thay đổi.", "success" if changed else "info")
        return redirect(url_for("notifications.preferences"))
    mandatory = [info for info in rules.EVENTS.values() if not info.optional]
    has_email = bool(current_user.email or getattr(getattr(current_user, "trainee", None), "email", None))
    return render_template("notifications/preferences.html", form=form, mandatory=mandatory, has_email=has_email)


# --- outbox --------------------------------------------------------------------------------------
def _dev_mailbox_enabled() -> bool:
    return mail_backend(current_app.config) != "smtp"


@bp.get("/outbox")
@roles_required("organizer")
def outbox_index():
    args = request.args
    query = services.outbox_query(actor=current_user, status=args.get("status"), event=args.get("event"), q=args.get("q"))
    page = db.paginate(query, per_page=current_app.config["PER_PAGE"], error_out=False)
    return render_template(
        "notifications/outbox.html",
        page=page,
        args=args,
        counts=services.status_counts(actor=current_user),
        status_choices=rules.STATUS_CHOICES,
        event_choices=rules.EVENT_CHOICES,
        backend=mail_backend(current_app.config),
        dev_mailbox=_dev_mailbox_enabled(),
    )


@bp.get("/outbox/<int:message_id>")
@roles_required("organizer")
def outbox_detail(message_id: int):
    message = get_scoped_or_404(OutboxMessage, message_id)
    return render_template("notifications/message.html", message=message)


@bp.get("/outbox/<int:message_id>/attachments/<int:index>")
@roles_required("organizer")
def outbox_attachment(message_id: int, index: int):
    message = get_scoped_or_404(OutboxMessage, message_id)
    items = services.attachments_of(message)
    if not 0 <= index < len(items):
        abort(404)
    item = items[index]
    return attachment(item.data, item.filename, item.content_type.split(";")[0])


@bp.post("/outbox/<int:message_id>/retry")
@roles_required("organizer")
def outbox_retry(message_id: int):
    message = get_scoped_or_404(OutboxMessage, message_id)
    try:
        outbox.retry_message(current_user, message, now=utcnow())
    except RuleViolation as exc:
        flash(str(exc), "danger")
    else:
        db.session.commit()
        flash(f"Thư #{message.id} sẽ được gửi lại trong lượt gửi tiếp theo.", "success")
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("notifications.outbox_detail", message_id=message.id))


@bp.get("/mailbox")
@roles_required("organizer")
def mailbox():
    """Development mailbox: the mails as their recipients would read them (never in smtp mode)."""
    if not _dev_mailbox_enabled():
        abort(404)
    query = services.outbox_query(actor=current_user, q=request.args.get("q"))
    page = db.paginate(query, per_page=10, error_out=False)
    return render_template("notifications/mailbox.html", page=page, args=request.args, backend=mail_backend(current_app.config))


# --- templates (admin) ---------------------------------------------------------------------------
def _event_or_404(event: str) -> rules.EventInfo:
    info = rules.EVENTS.get(event)
    if info is None:
        abort(404)
    return info


@bp.get("/templates")
@admin_required
def templates():
    return render_template("notifications/templates.html", rows=services.all_templates())


@bp.route("/templates/<event>", methods=["GET", "POST"])
@admin_required
def template_edit(event: str):
    info = _event_or_404(event)
    subject, body, row = services.template_for(event)
    form = TemplateForm(data={"subject": subject, "body": body})
    preview = None
    if form.validate_on_submit():
        try:
            if request.form.get("action") == "preview":
                preview = services.preview(form.subject.data, form.body.data, event)
            else:
                services.save_template(current_user, event, subject=form.subject.data, body=form.body.data)
                db.session.commit()
                flash(f"Đã lưu mẫu thư “{info.label}”.", "success")
                return redirect(url_for("notifications.template_edit", event=event))
        except RuleViolation as exc:
            apply_rule_errors(form, exc)
    elif request.method == "GET":
        try:
            preview = services.preview(subject, body, event)
        except RuleViolation as exc:
            apply_rule_errors(form, exc)
    return render_template("notifications/template_form.html", form=form, info=info, row=row, preview=preview)


@bp.post("/templates/<event>/reset")
@admin_required
def template_reset(event: str):
    info = _event_or_404(event)
    services.reset_template(current_user, event)
    db.session.commit()
    flash(f"Đã khôi phục mẫu mặc định cho “{info.label}”.", "success")
    return redirect(url_for("notifications.template_edit", event=event))
