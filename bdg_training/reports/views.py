"""Reports (báo cáo thống kê): dashboard, plan vs actual, learning, drill-down lists, exports, API tokens.

Every page reads its filters from the query string (GET: nothing changes, no CSRF needed) and answers 404
for a unit outside the user's scope. Token creation and revocation are POST forms (CSRF-protected).
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from bdg_training.access import roles_required
from bdg_training.database import utcnow
from bdg_training.downloads import attachment
from bdg_training.extensions import db
from bdg_training.forms import apply_rule_errors
from bdg_training.reports import charts, exports, rules, services
from bdg_training.reports.forms import TokenForm
from bdg_training.reports.models import ApiToken
from bdg_training.rules_base import RuleViolation

bp = Blueprint("reports", __name__, url_prefix="/reports")

report_roles = roles_required("organizer", "signer")


def today() -> date:
    return services.today()


def _filters():
    """(units, filters) for this request; 404 for a unit outside the user's scope."""
    units = services.load_units(today())
    try:
        filters = services.build_filters(request.args, current_user, today=today(), units=units)
    except services.OutOfScope:
        abort(404)
    for messages in filters.errors.values():
        for message in messages:
            flash(message, "warning")
    return units, filters


def _page(template: str, units, filters, **context):
    return render_template(
        template,
        filters=filters,
        fargs=filters.args(),
        unit_options=services.unit_choices(current_user, units),
        parts=rules.PARTS,
        groupings=rules.GROUPINGS,
        rules=rules,
        **context,
    )


@bp.get("/")
@report_roles
def index():
    units, filters = _filters()
    board = services.dashboard(filters, units=units)
    return _page(
        "reports/index.html",
        units,
        filters,
        board=board,
        headline_chart=charts.headline_chart(board),
        charts={b.dim: charts.breakdown_chart(b) for b in board.breakdowns},
    )


@bp.get("/plans")
@report_roles
def plans():
    units, filters = _filters()
    return _page("reports/plans.html", units, filters, plans=services.plan_report(filters, units=units, today=today()))


@bp.get("/learning")
@report_roles
def learning():
    units, filters = _filters()
    return _page("reports/learning.html", units, filters, study=services.learning(filters, units=units))


@bp.get("/rows/<kind>")
@report_roles
def rows(kind: str):
    units, filters = _filters()
    try:
        drill = services.drilldown(filters, kind, request.args, units=units)
    except KeyError:
        abort(404)
    page = db.paginate(drill.query, per_page=current_app.config["PER_PAGE"], error_out=False)
    numbers = services.certificate_numbers([e.id for e in page.items]) if kind == "certificates" else {}
    staff = current_user.role in ("admin", "organizer")
    links = {
        "course": staff and "courses.detail" in current_app.view_functions,
        "trainee": staff and "enrollment.trainee_detail" in current_app.view_functions,
    }
    return render_template(
        "reports/rows.html", filters=filters, fargs=filters.args(), drill=drill, page=page, numbers=numbers, kind=kind, links=links
    )


def _all(units, filters):
    return (
        services.dashboard(filters, units=units),
        services.plan_report(filters, units=units, today=today()),
        services.learning(filters, units=units),
    )


def _filename(filters, ext: str) -> str:
    period = filters.period
    stamp = f"{period.start:%Y%m%d}-{period.end:%Y%m%d}"
    return f"bao-cao-bdg-{stamp}.{ext}"


@bp.get("/export.xlsx")
@report_roles
def export_xlsx():
    units, filters = _filters()
    board, plan_rows, study = _all(units, filters)
    data = exports.workbook(board, plan_rows, study, today=today())
    return attachment(data, _filename(filters, "xlsx"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.get("/export.pdf")
@report_roles
def export_pdf():
    units, filters = _filters()
    board, plan_rows, study = _all(units, filters)
    data = exports.pdf(board, plan_rows, study, today=today())
    return attachment(data, _filename(filters, "pdf"), "application/pdf")


# --- personal API tokens ---------------------------------------------------------------------


@bp.route("/tokens", methods=["GET", "POST"])
@report_roles
def tokens():
    form = TokenForm()
    secret = None
    if form.validate_on_submit():
        try:
            token, secret = services.create_token(current_user, form.name.data)
        except RuleViolation as exc:
            apply_rule_errors(form, exc)
        else:
            db.session.commit()
            form = TokenForm(formdata=None)
            flash(f"Đã tạo mã truy cập “{token.name}”. Hãy sao chép ngay: mã chỉ hiện một lần.", "success")
    response = current_app.make_response(
        render_template(
            "reports/tokens.html",
            form=form,
            secret=secret,
            tokens=services.user_tokens(current_user),
            example=url_for("reports_api.stats", _external=True),
        )
    )
    if secret:
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/tokens/<int:token_id>/revoke")
@report_roles
def revoke_token(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    services.revoke_token(current_user, token, now=utcnow())
    db.session.commit()
    flash(f"Đã thu hồi mã truy cập “{token.name}”.", "success")
    return redirect(url_for("reports.tokens"))
