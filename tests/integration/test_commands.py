"""CLI: create-admin, seed-demo (idempotent), demo-logins."""

from __future__ import annotations

from sqlalchemy import func, select

from bdg_training.auth.models import User
from bdg_training.extensions import db
from bdg_training.units.models import Signer, Unit, unit_successions


def _counts():
    return (
        db.session.scalar(select(func.count(Unit.id))),
        db.session.scalar(select(func.count(User.id))),
        db.session.scalar(select(func.count(Signer.id))),
        db.session.scalar(select(func.count()).select_from(unit_successions)),
    )


def test_create_admin_with_flags(app):
    result = app.test_cli_runner().invoke(args=["create-admin", "--username", "QuanTri", "--full-name", "Quản Trị", "--password", "mot-mat-khau-dai"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.username == "quantri"))
    assert user.role == "admin" and user.unit_id is not None


def test_create_admin_refuses_weak_password(app):
    result = app.test_cli_runner().invoke(args=["create-admin", "--username", "quantri", "--full-name", "Q", "--password", "123"])
    assert result.exit_code != 0
    assert "ít nhất 10 ký tự" in result.output


def test_seed_demo_is_idempotent_and_builds_the_reform(app, tmp_path):
    app.config["DEMO_CREDENTIALS_FILE"] = str(tmp_path / "logins.txt")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo", "--password", "mat-khau-demo-1"]).exit_code == 0
    db.session.expire_all()
    first = _counts()
    assert runner.invoke(args=["seed-demo", "--password", "mat-khau-demo-1"]).exit_code == 0
    db.session.expire_all()
    assert _counts() == first
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "bỏ qua" in result.output
    roles = set(db.session.scalars(select(User.role)))
    assert roles == {"admin", "organizer", "signer", "trainee"}
    old = db.session.scalar(select(Unit).where(Unit.kind == "huyen", Unit.name == "Cờ Đỏ"))
    assert str(old.valid_to) == "2025-06-30"
    assert "xã Cờ Đỏ" in [s.label() for s in old.successors]
    assert db.session.scalar(select(Unit).where(Unit.name == "Sở Nội vụ")) is not None
    logins = runner.invoke(args=["demo-logins"]).output
    for username in ("admin", "tochuc.codo", "nguoiky.snv", "hocvien"):
        assert username in logins
