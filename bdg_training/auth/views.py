"""Login, logout, password, and the admin's user management."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, or_, select

from bdg_training.access import admin_required, public
from bdg_training.auth import services
from bdg_training.auth.forms import ChangePasswordForm, LoginForm, UserForm
from bdg_training.auth.models import ROLES, User
from bdg_training.auth.rules import is_safe_next, normalise_username
from bdg_training.database import utcnow
from bdg_training.extensions import db, limiter
from bdg_training.forms import BaseForm, apply_rule_errors
from bdg_training.rules_base import RuleViolation
from bdg_training.units.services import unit_choices

bp = Blueprint("auth", __name__)


def _login_key() -> str:
    return "login:" + normalise_username(request.form.get("login", ""))[:254]


def _failed(response) -> bool:
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"], deduct_when=_failed)
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], key_func=_login_key, methods=["POST"], deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.login.data, form.password.data, now=utcnow())
        if user is None:
            form.form_errors.append("Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản đã bị khóa.")
        else:
            login_user(user, remember=form.remember.data)
            db.session.commit()
            target = request.args.get("next")
            return redirect(target if is_safe_next(target) else url_for("main.index"))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    logout_user()
    flash("Bạn đã đăng xuất.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, current_password=form.current_password.data, new_password=form.new_password.data)
        except RuleViolation as exc:
            apply_rule_errors(form, exc)
        else:
            db.session.commit()
            login_user(current_user._get_current_object())  # the session id carries the new token
            flash("Đã đổi mật khẩu.", "success")
            return redirect(url_for("main.index"))
    return render_template("auth/change_password.html", form=form)


# --- user management (admin) ---------------------------------------------------------------


@bp.get("/admin/users")
@admin_required
def users():
    q = (request.args.get("q") or "").strip()
    role = request.args.get("role") or ""
    query = select(User).order_by(User.username)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(or_(User.username.like(like), func.lower(User.full_name).like(like), func.lower(User.email).like(like)))
    if role in ROLES:
        query = query.where(User.role == role)
    page = db.paginate(query, per_page=current_app.config["PER_PAGE"], error_out=False)
    return render_template("auth/users.html", page=page, q=q, role=role, roles=ROLES, action_form=BaseForm())


def _user_form(obj=None) -> UserForm:
    form = UserForm(obj=obj)
    form.unit_id.choices = [("", "— Không thuộc đơn vị (học viên) —"), *unit_choices()]
    return form


@bp.route("/admin/users/new", methods=["GET", "POST"])
@admin_required
def user_new():
    form = _user_form()
    if form.validate_on_submit():
        password = services.generate_temporary_password()
        try:
            user = services.create_user(
                current_user,
                username=form.username.data,
                full_name=form.full_name.data,
                email=form.email.data,
                role=form.role.data,
                unit_id=form.unit_id.data,
                password=password,
                must_change_password=True,
                check_strength=False,
            )
        except RuleViolation as exc:
            apply_rule_errors(form, exc)
        else:
            db.session.commit()
            return render_template("auth/password_issued.html", user=user, password=password)
    return render_template("auth/user_form.html", form=form, user=None)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user_edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = _user_form(obj=user)
    form.username.render_kw = {"readonly": True}
    if request.method == "POST":
        form.username.data = user.username
    if form.validate_on_submit():
        try:
            services.update_user(current_user, user, full_name=form.full_name.data, email=form.email.data, role=form.role.data, unit_id=form.unit_id.data)
        except RuleViolation as exc:
            apply_rule_errors(form, exc)
        else:
            db.session.commit()
            flash("Đã lưu tài khoản.", "success")
            return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=user, action_form=BaseForm())


@bp.post("/admin/users/<int:user_id>/active")
@admin_required
def user_set_active(user_id: int):
    user = db.get_or_404(User, user_id)
    form = BaseForm()
    if form.validate_on_submit():
        active = request.form.get("active") == "1"
        try:
            services.set_active(current_user, user, active)
        except RuleViolation as exc:
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash("Đã mở khóa tài khoản." if active else "Đã khóa tài khoản.", "success")
    return redirect(url_for("auth.user_edit", user_id=user.id))


@bp.post("/admin/users/<int:user_id>/reset-password")
@admin_required
def user_reset_password(user_id: int):
    user = db.get_or_404(User, user_id)
    form = BaseForm()
    if not form.validate_on_submit():
        return redirect(url_for("auth.user_edit", user_id=user.id))
    password = services.reset_password(current_user, user)
    db.session.commit()
    return render_template("auth/password_issued.html", user=user, password=password)
