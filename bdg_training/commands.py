"""CLI: ``flask create-admin``, ``flask seed-demo``, ``flask demo-logins``. Thin: call services, commit."""

from __future__ import annotations

import os
import secrets
from datetime import date
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from bdg_training.extensions import db


def init_app(app: Flask) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(seed_demo)
    app.cli.add_command(demo_logins)
    app.cli.add_command(backup)


@click.command("create-admin")
@with_appcontext
@click.option("--username", prompt="Tên đăng nhập")
@click.option("--full-name", prompt="Họ và tên")
@click.option("--unit-id", type=int, default=None, help="Đơn vị (mặc định: đơn vị gốc đầu tiên, tạo mới nếu chưa có).")
@click.option("--password", prompt="Mật khẩu", hide_input=True, confirmation_prompt=True)
def create_admin(username: str, full_name: str, unit_id: int | None, password: str) -> None:
    """Create an administrator account."""
    from bdg_training.auth.services import create_user
    from bdg_training.rules_base import RuleViolation
    from bdg_training.units.models import Unit

    if unit_id is None:
        root = db.session.scalar(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id))
        if root is None:
            root = Unit(kind="khac", name="Đơn vị quản trị")
            db.session.add(root)
            db.session.flush()
        unit_id = root.id
    try:
        create_user(None, username=username, full_name=full_name, role="admin", unit_id=unit_id, password=password)
    except RuleViolation as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Đã tạo tài khoản quản trị {username}.")


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Chỉ nạp khi cơ sở dữ liệu chưa có người dùng nào.")
@click.option("--password", envvar="DEMO_PASSWORD", default=None, help="Một mật khẩu chung cho mọi tài khoản mẫu (mặc định: sinh ngẫu nhiên).")
@click.option("--scale", type=click.IntRange(min=1), default=None, help="Thêm N lượt ghi danh giả lập (~0,4·N học viên) trong năm nay để đo hiệu năng báo cáo.")
def seed_demo(if_empty: bool, password: str | None, scale: int | None = None) -> None:
    """Load demo data for Cần Thơ (idempotent: running it twice adds nothing)."""
    from bdg_training import demo
    from bdg_training.auth.models import User

    if if_empty and db.session.scalar(select(func.count(User.id))):
        click.echo("Cơ sở dữ liệu đã có dữ liệu; bỏ qua nạp dữ liệu mẫu.")
        return
    existing = set(db.session.scalars(select(User.username)))
    passwords = {username: password or secrets.token_urlsafe(9) for username in demo.demo_usernames()}
    summary = demo.seed_all(today=_local_today(), passwords=passwords)
    db.session.commit()
    created = {u: p for u, p in passwords.items() if u not in existing}
    if created:
        _write_credentials(created)
    click.echo("Đã nạp dữ liệu mẫu: " + ", ".join(f"{k}: {v}" for k, v in summary.items()))
    if scale:
        from bdg_training.reports import scale as scale_data

        counts = scale_data.generate(scale, today=_local_today())
        db.session.commit()
        click.echo("Đã thêm dữ liệu quy mô: " + ", ".join(f"{k}: {v}" for k, v in counts.items()))


def _local_today() -> date:
    """Today where the app is used (``TIMEZONE``), not on the server's clock: from 17:00 UTC on, the
    two differ, and demo data dated "today" must agree with the pages, which use Vietnam time."""
    from bdg_training.clock import local_today

    return local_today()


def _write_credentials(created: dict[str, str]) -> None:
    from bdg_training.auth.demo import DEMO_USERS

    path = Path(current_app.config["DEMO_CREDENTIALS_FILE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    roles = {username: role for username, _, role, _ in DEMO_USERS}
    lines = [f"{roles[u]:<10} {u:<20} {p}" for u, p in created.items()]
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)


@click.command("demo-logins")
@with_appcontext
def demo_logins() -> None:
    """Print the demo logins written by seed-demo."""
    path = Path(current_app.config["DEMO_CREDENTIALS_FILE"])
    if not path.exists():
        click.echo("Chưa có tài khoản mẫu (chạy: flask seed-demo).")
        return
    click.echo("Tài khoản mẫu (vai trò, tên đăng nhập, mật khẩu):")
    click.echo(path.read_text(encoding="utf-8").rstrip())


@click.command("backup")
@with_appcontext
@click.argument("destination", type=click.Path(dir_okay=True, writable=True), required=False)
def backup(destination: str | None) -> None:
    """Write a consistent copy of the SQLite database while the app runs (SQLite online backup).

    DESTINATION defaults to instance/backups/bdg_training-YYYYmmdd-HHMMSS.db. For PostgreSQL use
    pg_dump (see README).
    """
    from datetime import datetime

    from bdg_training.backup import sqlite_backup

    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database:
        raise click.ClickException("flask backup chỉ dùng cho SQLite; với PostgreSQL hãy dùng pg_dump (xem README).")
    if destination is None:
        folder = Path(current_app.instance_path) / "backups"
        destination = str(folder / f"bdg_training-{datetime.now():%Y%m%d-%H%M%S}.db")
    elif Path(destination).is_dir():
        destination = str(Path(destination) / f"bdg_training-{datetime.now():%Y%m%d-%H%M%S}.db")
    pages = sqlite_backup(url.database, destination)
    click.echo(f"Đã sao lưu {pages} trang vào {destination}")
