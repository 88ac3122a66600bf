"""Certificates: eligibility review and issuing, printing jobs, lifecycle, register book, issuer templates,
"my certificates", and the public verification page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from bdg_training.access import admin_required, ensure_in_scope, public, roles_required
from bdg_training.actions import perform
from bdg_training.audit.models import AuditEvent
from bdg_training.certificates import jobs, rules, services
from bdg_training.certificates.forms import DuplicateForm, IssuerSettingsForm, OverrideForm, ReissueForm, RevokeForm, TemplateForm
from bdg_training.certificates.models import Certificate, CertificateJob, CertificateOverride, CertificateTemplate, IssuerSettings
from bdg_training.courses.models import Course
from bdg_training.database import utcnow
from bdg_training.downloads import attachment
from bdg_training.enrollment.models import Enrollment
from bdg_training.extensions import db, limiter
from bdg_training.forms import parse_id
from bdg_training.rules_base import RuleViolation
from bdg_training.text import fold
from bdg_training.units.models import Unit

bp = Blueprint("certificates", __name__)

ISSUER_ROLES = ("signer",)  # and admin (always)
VIEWER_ROLES = ("organizer", "signer")


def _verify_limit() -> str:
    return current_app.config.get("CERTIFICATE_VERIFY_LIMIT", "60 per minute")


def _today():
    return services.local_date(utcnow())


def _course_or_404(course_id: int) -> Course:
    course = db.get_or_404(Course, course_id)
    if not services.course_in_scope(course):
        abort(404)
    return course


def _certificate_or_404(certificate_id: int) -> Certificate:
    certificate = db.get_or_404(Certificate, certificate_id)
    if not services.certificate_in_scope(certificate):
        abort(404)
    return certificate


def _enrollment_or_404(enrollment_id: int) -> Enrollment:
    enrollment = db.get_or_404(Enrollment, enrollment_id)
    if not services.course_in_scope(enrollment.course):
        abort(404)
    return enrollment


def _may_issue() -> bool:
    return current_user.is_authenticated and current_user.role in ("admin", *ISSUER_ROLES)


# --------------------------------------------------------------------------------------------
# Courses and eligibility review
# --------------------------------------------------------------------------------------------
@bp.get("/certificates/")
@roles_required(*VIEWER_ROLES)
def index():
    q = (request.args.get("q") or "").strip()
    query = (
        select(Course)
        .where(services.course_scope(), Course.status.in_(sorted(rules.ISSUABLE_COURSE_STATUSES)))
        .options(joinedload(Course.unit), joinedload(Course.issuing_unit))
        .order_by(Course.end_date.desc(), Course.id.desc())
    )
    if q:
        query = query.where(Course.search_key.contains(fold(q)))
    page = db.paginate(query, per_page=current_app.config["PER_PAGE"], error_out=False)
    ids = [c.id for c in page.items]
    issued = (
        dict(
            db.session.execute(
                select(Certificate.course_id, func.count(Certificate.id))
                .where(Certificate.course_id.in_(ids), Certificate.status == "valid")
                .group_by(Certificate.course_id)
            ).all()
        )
        if ids
        else {}
    )
    confirmed = (
        dict(
            db.session.execute(
                select(Enrollment.course_id, func.count(Enrollment.id))
                .where(Enrollment.course_id.in_(ids), Enrollment.status == "confirmed")
                .group_by(Enrollment.course_id)
            ).all()
        )
        if ids
        else {}
    )
    return render_template("certificates/index.html", page=page, q=q, issued=issued, confirmed=confirmed)


@bp.get("/certificates/courses/<int:course_id>")
@roles_required(*VIEWER_ROLES)
def review(course_id: int):
    course = _course_or_404(course_id)
    rows = services.review(course, today=_today())
    counts = services.review_counts(rows)
    show = request.args.get("show", "all")
    if show == "eligible":
        rows = [r for r in rows if r.can_issue]
    elif show == "ineligible":
        rows = [r for r in rows if not r.can_issue and r.valid_certificate is None]
    elif show == "issued":
        rows = [r for r in rows if r.valid_certificate is not None]
    else:
        show = "all"
    problems = services.issue_problems(course, now=utcnow())
    recent_jobs = db.session.scalars(
        select(CertificateJob).where(CertificateJob.course_id == course.id).order_by(CertificateJob.id.desc()).limit(5)
    ).all()
    return render_template(
        "certificates/review.html",
        course=course,
        rows=rows,
        counts=counts,
        show=show,
        problems=problems,
        may_issue=_may_issue(),
        recent_jobs=recent_jobs,
        settings=services.settings_for(course.issuing_unit_id),
        requirement={"attendance": rules.format_hours(course.min_attendance_pct), "pass_mark": _score(course.pass_mark)},
        score=_score,
    )


def _score(value) -> str:
    return "—" if value is None else f"{value:.2f}".replace(".", ",")


@bp.post("/certificates/enrollments/<int:enrollment_id>/issue")
@roles_required(*ISSUER_ROLES)
def issue_one(enrollment_id: int):
    enrollment = _enrollment_or_404(enrollment_id)
    course_id = enrollment.course_id
    try:
        certificate = services.issue_one(current_user, enrollment.id, now=utcnow())
    except RuleViolation as exc:
        db.session.rollback()
        flash("Chưa cấp được giấy chứng nhận: " + "; ".join(exc.messages), "danger")
    else:
        db.session.commit()
        flash(f"Đã cấp giấy chứng nhận số {certificate.number} cho {certificate.holder_name}.", "success")
    return redirect(url_for("certificates.review", course_id=course_id))


@bp.post("/certificates/courses/<int:course_id>/issue")
@roles_required(*ISSUER_ROLES)
def issue_all(course_id: int):
    course = _course_or_404(course_id)
    try:
        certificates = services.issue_all(current_user, course.id, now=utcnow())
        job = services.create_job(current_user, course, [c.id for c in certificates])
    except RuleViolation as exc:
        db.session.rollback()
        flash("Chưa cấp được giấy chứng nhận: " + "; ".join(exc.messages), "danger")
        return redirect(url_for("certificates.review", course_id=course.id))
    job_id = job.id
    message = f"Đã cấp {len(certificates)} giấy chứng nhận (số {certificates[0].number} → {certificates[-1].number}). Đang tạo tệp in."
    db.session.commit()
    jobs.start(job_id)
    flash(message, "success")
    return redirect(url_for("certificates.job", job_id=job_id))


@bp.post("/certificates/courses/<int:course_id>/print")
@roles_required(*VIEWER_ROLES)
def print_course(course_id: int):
    course = _course_or_404(course_id)
    certificates = services.course_certificates(course.id)
    try:
        job = services.create_job(current_user, course, [c.id for c in certificates])
    except RuleViolation as exc:
        flash("; ".join(exc.messages), "warning")
        return redirect(url_for("certificates.review", course_id=course.id))
    job_id = job.id
    db.session.commit()
    jobs.start(job_id)
    return redirect(url_for("certificates.job", job_id=job_id))


@bp.route("/certificates/enrollments/<int:enrollment_id>/override", methods=["GET", "POST"])
@roles_required(*ISSUER_ROLES)
def override(enrollment_id: int):
    enrollment = _enrollment_or_404(enrollment_id)
    rows = services.review(enrollment.course, today=_today(), enrollment_ids=[enrollment.id])
    if not rows:
        abort(404)
    form = OverrideForm()
    if form.validate_on_submit():
        done = perform(lambda: services.set_override(current_user, enrollment, form.reason.data, today=_today()), form)
        if done:
            flash(f"Đã ghi nhận xét đặc cách cho {enrollment.trainee.full_name}.", "success")
            return redirect(url_for("certificates.review", course_id=enrollment.course_id))
    return render_template("certificates/override.html", form=form, row=rows[0], course=enrollment.course)


@bp.post("/certificates/overrides/<int:override_id>/delete")
@roles_required(*ISSUER_ROLES)
def remove_override(override_id: int):
    item = db.get_or_404(CertificateOverride, override_id)
    course = item.enrollment.course
    if not services.course_in_scope(course):
        abort(404)
    services.remove_override(current_user, item)
    db.session.commit()
    flash("Đã bỏ xét đặc cách.", "success")
    return redirect(url_for("certificates.review", course_id=course.id))


# --------------------------------------------------------------------------------------------
# Print jobs
# --------------------------------------------------------------------------------------------
def _job_or_404(job_id: int) -> CertificateJob:
    job = db.get_or_404(CertificateJob, job_id)
    if not (services.course_in_scope(job.course) or job.requested_by_id == current_user.id):
        abort(404)
    return job


def _job_state(job: CertificateJob) -> dict:
    data = {
        "id": job.id,
        "status": job.status,
        "status_label": job.status_label,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
    }
    if job.status == "done":
        data["downloads"] = {
            "pdf": url_for("certificates.job_pdf", job_id=job.id),
            "zip": url_for("certificates.job_zip", job_id=job.id),
        }
    if job.status == "failed":
        data["error"] = "Không tạo được tệp in. Vui lòng thử lại hoặc báo quản trị viên."
    return data


@bp.get("/certificates/jobs/<int:job_id>")
@roles_required(*VIEWER_ROLES)
def job(job_id: int):
    item = _job_or_404(job_id)
    return render_template("certificates/job.html", job=item, state=_job_state(item), stale=item.is_stale(utcnow()))


@bp.get("/certificates/jobs/<int:job_id>.json")
@roles_required(*VIEWER_ROLES)
def job_status(job_id: int):
    response = jsonify(_job_state(_job_or_404(job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


def _job_file(job_id: int, attr: str) -> tuple[CertificateJob, bytes]:
    item = _job_or_404(job_id)
    data = getattr(item, attr) if item.status == "done" else None
    if not data:
        abort(404)
    return item, data


@bp.get("/certificates/jobs/<int:job_id>/giay-chung-nhan.pdf")
@roles_required(*VIEWER_ROLES)
def job_pdf(job_id: int):
    item, data = _job_file(job_id, "merged_pdf")
    return attachment(data, f"giay-chung-nhan-{item.course.code}.pdf", "application/pdf")


@bp.get("/certificates/jobs/<int:job_id>/giay-chung-nhan.zip")
@roles_required(*VIEWER_ROLES)
def job_zip(job_id: int):
    item, data = _job_file(job_id, "zip_bytes")
    return attachment(data, f"giay-chung-nhan-{item.course.code}.zip", "application/zip")


@bp.post("/certificates/jobs/<int:job_id>/retry")
@roles_required(*VIEWER_ROLES)
def job_retry(job_id: int):
    item = _job_or_404(job_id)
    if not item.can_retry(utcnow()):
        flash("Chỉ chạy lại được lượt in bị lỗi hoặc bị dừng giữa chừng.", "warning")
        return redirect(url_for("certificates.job", job_id=item.id))
    item.status, item.done, item.error = "queued", 0, None
    db.session.commit()
    jobs.start(job_id)
    return redirect(url_for("certificates.job", job_id=job_id))


# --------------------------------------------------------------------------------------------
# One certificate: detail, PDF, lifecycle
# --------------------------------------------------------------------------------------------
@bp.get("/certificates/<int:certificate_id>")
@roles_required(*VIEWER_ROLES)
def detail(certificate_id: int):
    certificate = _certificate_or_404(certificate_id)
    chain = []
    seen = {certificate.id}
    cursor = certificate.replaces
    while cursor is not None and cursor.id not in seen:  # the certificates this one replaced, newest first
        chain.append(cursor)
        seen.add(cursor.id)
        cursor = cursor.replaces
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "certificates", AuditEvent.object_id == str(certificate.id))
        .order_by(AuditEvent.created_at)
    ).all()
    return render_template(
        "certificates/detail.html",
        certificate=certificate,
        chain=chain,
        successor=services.successor(certificate),
        events=events,
        remarks=services.register_remarks(certificate),
        may_issue=_may_issue(),
    )


@bp.get("/certificates/<int:certificate_id>/pdf")
def certificate_pdf(certificate_id: int):
    """Staff in scope: any certificate (a void one carries its marker). A trainee: their own valid ones."""
    certificate = db.get_or_404(Certificate, certificate_id)
    if current_user.role == "trainee":
        trainee = services.trainee_of(current_user)
        if trainee is None or certificate.trainee_id != trainee.id or certificate.status != "valid":
            abort(404)
    elif not services.certificate_in_scope(certificate):
        abort(404)
    data = services.certificate_pdf(certificate)
    return attachment(data, services.pdf_filename(certificate), "application/pdf", inline=request.args.get("download") != "1")


def _lifecycle(certificate_id: int, form_class, template: str, action):
    certificate = _certificate_or_404(certificate_id)
    form = form_class()
    if certificate.status != "valid":
        flash(f"Giấy chứng nhận này {certificate.status_label.lower()}: không thay đổi được nữa.", "warning")
        return redirect(url_for("certificates.detail", certificate_id=certificate.id))
    if form.validate_on_submit():
        done = perform(lambda: action(certificate, form), form)
        if done:
            result, message = done.value
            flash(message, "success")
            return redirect(url_for("certificates.detail", certificate_id=result.id))
    return render_template(template, form=form, certificate=certificate)


@bp.route("/certificates/<int:certificate_id>/revoke", methods=["GET", "POST"])
@roles_required(*ISSUER_ROLES)
def revoke(certificate_id: int):
    def action(certificate, form):
        services.revoke(current_user, certificate, reason=form.reason.data, note=form.note.data or "", now=utcnow())
        return certificate, f"Đã thu hồi giấy chứng nhận số {certificate.number}."

    return _lifecycle(certificate_id, RevokeForm, "certificates/revoke.html", action)


@bp.route("/certificates/<int:certificate_id>/reissue", methods=["GET", "POST"])
@roles_required(*ISSUER_ROLES)
def reissue(certificate_id: int):
    def action(certificate, form):
        new = services.reissue(current_user, certificate, reason=form.reason.data, now=utcnow())
        return new, f"Đã cấp lại giấy chứng nhận số {new.number} thay số {certificate.number}."

    return _lifecycle(certificate_id, ReissueForm, "certificates/reissue.html", action)


@bp.route("/certificates/<int:certificate_id>/duplicate", methods=["GET", "POST"])
@roles_required(*ISSUER_ROLES)
def duplicate(certificate_id: int):
    def action(certificate, form):
        new = services.duplicate(current_user, certificate, note=form.note.data, now=utcnow())
        return new, f"Đã cấp bản sao số {new.number} của giấy chứng nhận số {certificate.number}."

    return _lifecycle(certificate_id, DuplicateForm, "certificates/duplicate.html", action)


# --------------------------------------------------------------------------------------------
# Register book
# --------------------------------------------------------------------------------------------
@bp.get("/certificates/register")
@roles_required(*VIEWER_ROLES)
def register_index():
    return render_template("certificates/register_index.html", books=services.register_books())


def _register_issuer(unit_id: int) -> Unit:
    unit = db.get_or_404(Unit, unit_id)
    ensure_in_scope(unit.id)
    return unit


@bp.get("/certificates/register/<int:unit_id>/<int:year>")
@roles_required(*VIEWER_ROLES)
def register(unit_id: int, year: int):
    issuer = _register_issuer(unit_id)
    page = db.paginate(services.register_query(issuer.id, year), per_page=current_app.config["PER_PAGE"], error_out=False)
    return render_template(
        "certificates/register.html",
        issuer=issuer,
        year=year,
        page=page,
        rows=services.register_rows(page.items),
        gaps=services.register_gaps(issuer.id, year),
        settings=services.settings_for(issuer.id),
    )


def _all_register_rows(issuer: Unit, year: int):
    return services.register_rows(db.session.scalars(services.register_query(issuer.id, year)).unique().all())


@bp.get("/certificates/register/<int:unit_id>/<int:year>.xlsx")
@roles_required(*VIEWER_ROLES)
def register_xlsx(unit_id: int, year: int):
    issuer = _register_issuer(unit_id)
    data = services.register_xlsx(issuer, year, _all_register_rows(issuer, year))
    return attachment(
        data,
        f"so-cap-gcn-{fold(issuer.short_code or str(issuer.id))}-{year}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@bp.get("/certificates/register/<int:unit_id>/<int:year>.pdf")
@roles_required(*VIEWER_ROLES)
def register_pdf(unit_id: int, year: int):
    from bdg_training.pdf import html_to_pdf

    issuer = _register_issuer(unit_id)
    html = render_template(
        "certificates/register_pdf.html",
        issuer=issuer,
        year=year,
        rows=_all_register_rows(issuer, year),
        settings=services.settings_for(issuer.id),
        printed_on=_today(),
    )
    data = html_to_pdf(html, stylesheets=("css/certificate-register.css",))
    return attachment(data, f"so-cap-gcn-{fold(issuer.short_code or str(issuer.id))}-{year}.pdf", "application/pdf")


# --------------------------------------------------------------------------------------------
# A trainee's own certificates
# --------------------------------------------------------------------------------------------
@bp.get("/certificates/mine")
@roles_required("trainee")
def mine():
    trainee = services.trainee_of(current_user)
    certificates = services.certificates_of_trainee(trainee.id) if trainee else []
    return render_template("certificates/mine.html", certificates=certificates, trainee=trainee)


# --------------------------------------------------------------------------------------------
# Issuers: settings and templates (admin)
# --------------------------------------------------------------------------------------------
@bp.get("/certificates/issuers")
@admin_required
def issuers():
    items = db.session.scalars(
        select(IssuerSettings)
        .options(joinedload(IssuerSettings.unit), joinedload(IssuerSettings.template))
        .join(Unit, Unit.id == IssuerSettings.unit_id)
        .order_by(Unit.name)
    ).all()
    configured = {s.unit_id for s in items}
    candidates = db.session.scalars(select(Unit).where(Unit.short_code.is_not(None), Unit.valid_to.is_(None)).order_by(Unit.name)).all()
    return render_template("certificates/issuers.html", items=items, candidates=[u for u in candidates if u.id not in configured])


@bp.get("/certificates/issuers/new")
@admin_required
def issuer_new():
    unit_id = parse_id(request.args.get("unit_id"))
    if unit_id is None:
        return redirect(url_for("certificates.issuers"))
    return redirect(url_for("certificates.issuer_settings", unit_id=unit_id))


@bp.route("/certificates/issuers/<int:unit_id>", methods=["GET", "POST"])
@admin_required
def issuer_settings(unit_id: int):
    unit = db.get_or_404(Unit, unit_id)
    settings = services.settings_for(unit.id)
    form = IssuerSettingsForm(obj=settings)
    if request.method == "GET" and settings is None:
        form.issuing_body.data = unit.label().upper()
    if form.validate_on_submit():
        done = perform(
            lambda: services.save_settings(current_user, unit, **{k: getattr(form, k).data for k in services.SETTINGS_FIELDS}), form
        )
        if done:
            flash(f"Đã lưu cấu hình giấy chứng nhận của {unit.label()}.", "success")
            return redirect(url_for("certificates.issuer_settings", unit_id=unit.id))
    sample = services.sample_number(settings, unit, _today().year) if settings else ""
    return render_template("certificates/issuer_settings.html", form=form, unit=unit, settings=settings, sample=sample)


@bp.route("/certificates/issuers/<int:unit_id>/template", methods=["GET", "POST"])
@admin_required
def template_editor(unit_id: int):
    unit = db.get_or_404(Unit, unit_id)
    settings = services.settings_for(unit.id)
    if settings is None:
        flash("Hãy lưu cấu hình đơn vị cấp trước khi sửa mẫu.", "warning")
        return redirect(url_for("certificates.issuer_settings", unit_id=unit.id))
    form = TemplateForm()
    if request.method == "GET":
        source = None
        if parse_id(request.args.get("from")) is not None:
            source = db.session.get(CertificateTemplate, parse_id(request.args["from"]))
            source = source if source is not None and source.unit_id == unit.id else None
        source = source or settings.template
        if source is not None:
            form.html.data, form.css.data = source.html, source.css
        else:
            form.html.data, form.css.data = services.default_template_source()
    if form.validate_on_submit():
        done = perform(
            lambda: services.save_template(
                current_user, unit, html=form.html.data, css=form.css.data or "", note=form.note.data or "", today=_today()
            ),
            form,
        )
        if done:
            flash(f"Đã lưu mẫu phiên bản {done.value.version}; giấy chứng nhận cấp từ nay dùng phiên bản này.", "success")
            return redirect(url_for("certificates.template_editor", unit_id=unit.id))
    return render_template(
        "certificates/template_editor.html", form=form, unit=unit, settings=settings, versions=services.template_versions(unit.id)
    )


@bp.post("/certificates/issuers/<int:unit_id>/template/preview")
@admin_required
def template_preview(unit_id: int):
    unit = db.get_or_404(Unit, unit_id)
    form = TemplateForm()
    if not form.validate_on_submit():
        return render_template("certificates/preview_error.html", unit=unit, messages=[m for ms in form.errors.values() for m in ms]), 400
    try:
        data = services.render_preview(services.settings_for(unit.id), unit, form.html.data, form.css.data or "", today=_today())
    except RuleViolation as exc:
        return render_template("certificates/preview_error.html", unit=unit, messages=exc.messages), 400
    return attachment(data, "xem-truoc-mau-gcn.pdf", "application/pdf", inline=True)


@bp.post("/certificates/issuers/<int:unit_id>/template/activate")
@admin_required
def template_activate(unit_id: int):
    unit = db.get_or_404(Unit, unit_id)
    template_id = request.form.get("template_id", "")
    template = db.session.get(CertificateTemplate, parse_id(template_id)) if parse_id(template_id) is not None else None
    if template_id and template is None:
        abort(404)
    if perform(lambda: services.activate_template(current_user, unit, template)):
        flash("Đã đổi mẫu dùng cho giấy chứng nhận cấp từ nay.", "success")
    return redirect(url_for("certificates.template_editor", unit_id=unit.id))


# --------------------------------------------------------------------------------------------
# Public verification
# --------------------------------------------------------------------------------------------
_verify_shared = limiter.shared_limit(_verify_limit, scope="certificate-verify")


@bp.get("/verify/")
@public
@_verify_shared
def verify_form():
    code = request.args.get("code")
    if code is not None:
        code = "".join(code.split())
        if code:
            return redirect(url_for("certificates.verify", code=code))
    return render_template("certificates/verify_form.html")


@bp.get("/verify/<code>")
@public
@_verify_shared
def verify(code: str):
    result = services.verify(code)
    data = result.public_dict()
    return render_template("certificates/verify.html", result=result, data=data, code=code, iso=_iso_date), (
        404 if result.state == "unknown" else 200
    )


def _iso_date(value: str | None) -> str:
    """ "2026-02-05" → "05/02/2026" (the JSON form keeps ISO dates; the page shows Vietnamese ones)."""
    from datetime import date

    try:
        return date.fromisoformat(value).strftime("%d/%m/%Y") if value else ""
    except ValueError:
        return ""


@bp.get("/verify/<code>.json")
@public
@_verify_shared
def verify_json(code: str):
    result = services.verify(code)
    data = result.public_dict()
    if "replaced_by" in data:
        successor_code = data["replaced_by"]["verify_code"]
        data["replaced_by"]["url"] = url_for("certificates.verify", code=successor_code, _external=True)
        data["replaced_by"]["json"] = url_for("certificates.verify_json", code=successor_code, _external=True)
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response, (404 if result.state == "unknown" else 200)
