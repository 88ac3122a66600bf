"""Units (đơn vị) and signers (người ký)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bdg_training.access import admin_required, get_scoped_or_404, roles_required, scope_filter
from bdg_training.extensions import db
from bdg_training.forms import apply_rule_errors, parse_id
from bdg_training.rules_base import RuleViolation
from bdg_training.units import services
from bdg_training.units.forms import CloseUnitForm, SignerForm, SuccessorForm, UnitForm
from bdg_training.units.models import Signer, Unit

bp = Blueprint("units", __name__, url_prefix="/units")


@bp.get("/")
@roles_required("organizer")
def index():
    show_closed = request.args.get("closed", "1") == "1"
    rows = services.tree_rows(include_closed=show_closed)
    return render_template("units/index.html", rows=rows, show_closed=show_closed)


@bp.get("/<int:unit_id>")
@roles_required("organizer")
def detail(unit_id: int):
    unit = get_scoped_or_404(Unit, unit_id, "id")
    close_form = CloseUnitForm()
    successor_form = SuccessorForm()
    successor_form.successor_id.choices = [(i, label) for i, label in services.unit_choices() if i != unit.id]
    return render_template("units/detail.html", unit=unit, close_form=close_form, successor_form=successor_form)


def _unit_form(obj=None) -> UnitForm:
    form = UnitForm(obj=obj)
    form.parent_id.choices = [("", "— Không có (cấp cao nhất) —"), *services.unit_choices()]
    return form


def _unit_values(form: UnitForm) -> dict:
    return {
        "kind": form.kind.data,
        "name": form.name.data,
        "short_code": (form.short_code.data or "").upper() or None,
        "official_code": form.official_code.data or None,
        "parent_id": form.parent_id.data,
        "valid_from": form.valid_from.data,
        "valid_to": form.valid_to.data,
        "is_urban": form.is_urban.data,
        "note": form.note.data or None,
    }


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def new():
    form = _unit_form()
    if request.method == "GET" and parse_id(request.args.get("parent_id")) is not None:
        form.parent_id.data = parse_id(request.args["parent_id"])
    if form.validate_on_submit():
        try:
            unit = services.create_unit(current_user, **_unit_values(form))
        except RuleViolation as exc:
            apply_rule_errors(form, exc)
        else:
            db.session.commit()
            flash(f"Đã tạo {unit.label()}.", "success")
            return redirect(url_for("units.detail", unit_id=unit.id))
    return render_template("units/form.html", form=form, unit=None)


@bp.route("/<int:unit_id>/edit", methods=["GET", "POST"])
@admin_required
def edit(unit_id: int):
    unit = db.get_or_404(Unit, unit_id)
    form = _unit_form(obj=unit)
    if form.validate_on_submit():
        try:
            services.update_unit(current_user, unit, **_unit_values(form))
        except RuleViolation as exc:
            apply_rule_errors(form, exc)
        else:
            db.session.commit()
            flash("Đã lưu đơn vị.", "success")
            return redirect(url_for("units.detail", unit_id=unit.id))
    return render_template("units/form.html", form=form, unit=unit)


@bp.post("/<int:unit_id>/close")
@admin_required
def close(unit_id: int):
    unit = db.get_or_404(Unit, unit_id)
    form = CloseUnitForm()
    if form.validate_on_submit():
        try:
            services.close_unit(current_user, unit, form.valid_to.data)
        except RuleViolation as exc:
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash(f"Đã đóng {unit.name}; đơn vị vẫn được giữ trong lịch sử.", "success")
    else:
        flash("; ".join(form.valid_to.errors) or "Biểu mẫu không hợp lệ.", "danger")
    return redirect(url_for("units.detail", unit_id=unit.id))


@bp.post("/<int:unit_id>/successors")
@admin_required
def add_successor(unit_id: int):
    unit = db.get_or_404(Unit, unit_id)
    form = SuccessorForm()
    form.successor_id.choices = services.unit_choices()
    if form.validate_on_submit():
        try:
            services.link_successor(current_user, unit, db.session.get(Unit, form.successor_id.data))
        except RuleViolation as exc:
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash("Đã thêm đơn vị kế thừa.", "success")
    else:
        flash("Vui lòng chọn đơn vị kế thừa.", "danger")
    return redirect(url_for("units.detail", unit_id=unit.id))


@bp.post("/<int:unit_id>/successors/<int:successor_id>/delete")
@admin_required
def remove_successor(unit_id: int, successor_id: int):
    unit = db.get_or_404(Unit, unit_id)
    successor = db.get_or_404(Unit, successor_id)
    services.unlink_successor(current_user, unit, successor)
    db.session.commit()
    flash("Đã bỏ liên kết kế thừa.", "success")
    return redirect(url_for("units.detail", unit_id=unit.id))


# --- signers -------------------------------------------------------------------------------


@bp.get("/signers")
@roles_required("signer")
def signers():
    rows = db.session.scalars(
        select(Signer).where(scope_filter(Signer.unit_id)).options(selectinload(Signer.unit)).order_by(Signer.valid_to.is_not(None), Signer.full_name)
    ).all()
    return render_template("units/signers.html", signers=rows)


def _signer_form(obj=None) -> SignerForm:
    form = SignerForm(obj=obj)
    form.unit_id.choices = services.unit_choices()
    return form


def _signer_values(form: SignerForm) -> dict:
    return {name: getattr(form, name).data for name in services.SIGNER_FIELDS}


@bp.route("/signers/new", methods=["GET", "POST"])
@admin_required
def signer_new():
    form = _signer_form()
    if form.validate_on_submit():
        try:
            services.create_signer(current_user, **_signer_values(form))
        except RuleViolation as exc:
            apply_rule_errors(form, exc)
        else:
            db.session.commit()
            flash("Đã thêm người ký.", "success")
            return redirect(url_for("units.signers"))
    return render_template("units/signer_form.html", form=form, signer=None)


@bp.route("/signers/<int:signer_id>", methods=["GET", "POST"])
@admin_required
def signer_edit(signer_id: int):
    signer = db.get_or_404(Signer, signer_id)
    form = _signer_form(obj=signer)
    if form.validate_on_submit():
        try:
            services.update_signer(current_user, signer, **_signer_values(form))
        except RuleViolation as exc:
            apply_rule_errors(form, exc)
        else:
            db.session.commit()
            flash("Đã lưu người ký.", "success")
            return redirect(url_for("units.signers"))
    return render_template("units/signer_form.html", form=form, signer=signer)
