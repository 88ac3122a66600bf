"""The public pages' micro-cache (bdg_training/pagecache.py): anonymous visitors get a kept copy, anyone with a
cookie gets Flask; a committed write — an edited course, a revoked certificate — shows at once, in every worker
that shares the version file; nothing personal or failed is ever kept."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from bdg_training import create_app, pagecache
from bdg_training.database import utcnow
from bdg_training.extensions import db
from tests.conftest import fresh, login


@pytest.fixture
def cache(app, tmp_path):
    """The app's page cache turned on (the suite runs with it off), with its own version file."""
    cache = app.extensions[pagecache.EXTENSION]
    saved = (cache.seconds, cache.version_file, cache.max_entries)
    cache.seconds, cache.version_file = 10, tmp_path / "page-cache.version"
    cache.clear()
    yield cache
    cache.seconds, cache.version_file, cache.max_entries = saved
    cache.clear()


def hit(response) -> bool:
    return "Age" in response.headers


def test_an_anonymous_visitor_gets_the_kept_page_until_a_write_is_committed(client, make, cache):
    course = make.course(status="open", title="Lớp Cờ Đỏ 2026")
    first = client.get("/courses/catalogue")
    second = client.get("/courses/catalogue")
    assert first.status_code == second.status_code == 200
    assert not hit(first) and hit(second)
    assert second.get_data() == first.get_data()
    assert second.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]  # headers kept too

    db.session.execute(update(type(course)).where(type(course).id == course.id).values(title="Lớp Cờ Đỏ — đổi tên"))
    db.session.commit()
    after = client.get("/courses/catalogue")
    assert not hit(after)
    assert "Lớp Cờ Đỏ — đổi tên" in after.get_data(as_text=True)


def test_an_edit_through_the_organizer_form_shows_at_once(client, make, cache):
    course = make.course(status="open", title="Tập huấn luật bình đẳng giới")
    organizer = make.user("organizer", unit=course.unit)
    path = f"/courses/catalogue/{course.id}"
    client.get(path)
    assert hit(client.get(path))
    from bdg_training.courses import services

    services.update_course(organizer, course, title="Tập huấn kỹ năng lồng ghép giới")
    db.session.commit()
    page = client.get(path)
    assert not hit(page) and "Tập huấn kỹ năng lồng ghép giới" in page.get_data(as_text=True)


def test_a_revocation_shows_on_the_verification_page_at_once(client, make, cache):
    from bdg_training.certificates import services

    world = make.certificate_class([{"name": "Trần Thị Mỹ Duyên"}])
    signer = make.user("signer", unit=world["issuer"])
    [certificate] = services.issue_all(signer, world["course"].id, now=utcnow())
    db.session.commit()
    path = f"/verify/{certificate.verify_code}"
    first = client.get(path)
    assert "Giấy chứng nhận hợp lệ" in first.get_data(as_text=True)
    assert "X-RateLimit-Remaining" in first.headers  # the first visitor's own budget…
    kept = client.get(path)
    assert hit(kept) and not [h for h in kept.headers.keys() if h.lower().startswith("x-ratelimit")]  # …is not replayed
    services.revoke(signer, certificate, reason="ineligible", now=utcnow())
    db.session.commit()
    page = client.get(path)
    assert not hit(page)
    assert "Giấy chứng nhận hợp lệ" not in page.get_data(as_text=True) and "thu hồi" in page.get_data(as_text=True).lower()


def test_a_rolled_back_change_keeps_the_page(client, make, cache):
    course = make.course(status="open", title="Lớp giữ nguyên")
    client.get("/courses/catalogue")
    course.title = "Không lưu"
    db.session.flush()
    db.session.rollback()
    assert hit(client.get("/courses/catalogue"))


def test_a_visitor_with_a_cookie_or_a_login_is_never_served_from_it(app, client, make, cache):
    course = make.course(status="open", title="Lớp có người đăng nhập")
    client.get("/courses/catalogue")
    assert hit(client.get("/courses/catalogue"))
    other = app.test_client()
    other.set_cookie("ga", "1")  # any cookie at all
    assert not hit(other.get("/courses/catalogue"))
    organizer = make.user("organizer", unit=course.unit)
    login(client, organizer)  # the client now sends the session cookie
    page = client.get("/courses/catalogue")
    assert not hit(page) and "public" not in page.headers.get("Cache-Control", "")
    assert "Đăng xuất" in page.get_data(as_text=True)  # the user's own menu, not the anonymous copy


def test_an_unknown_code_is_never_kept_and_stays_rate_limited(client, cache, app):
    app.config["CERTIFICATE_VERIFY_LIMIT"] = "3 per minute"
    try:
        statuses = [client.get("/verify/MaKhongTonTai123456").status_code for _ in range(5)]
    finally:
        app.config.pop("CERTIFICATE_VERIFY_LIMIT")
    assert statuses[:3] == [404, 404, 404] and statuses[3:] == [429, 429]
    assert len(cache) == 0


def test_pages_expire_and_the_oldest_are_dropped(client, make, cache, monkeypatch):
    make.course(status="open", title="Lớp hết hạn")
    clock = [1000.0]
    monkeypatch.setattr(pagecache.time, "monotonic", lambda: clock[0])
    client.get("/courses/catalogue")
    clock[0] += 9
    assert hit(client.get("/courses/catalogue"))
    clock[0] += 2  # 11 s after it was kept
    assert not hit(client.get("/courses/catalogue"))

    cache.max_entries = 2
    for q in ("a", "b", "c"):
        client.get(f"/courses/catalogue?q={q}")
    assert len(cache) == 2
    assert not hit(client.get("/courses/catalogue?q=a"))  # evicted: least recently used
    assert hit(client.get("/courses/catalogue?q=c"))


def test_a_write_in_one_worker_refreshes_the_others(tmp_path):
    """Two app processes of one server (gunicorn workers) share the database and the version file."""
    settings = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'shared.db'}",
        "PAGE_CACHE_SECONDS": 10,
        "PAGE_CACHE_VERSION_FILE": str(tmp_path / "page-cache.version"),
    }
    reader, writer = create_app("testing", **settings), create_app("testing", **settings)
    from tests.factories import Factory

    with writer.app_context():
        db.create_all()
        course = Factory().course(status="open", title="Lớp trước khi sửa")
        course_id, course_type = course.id, type(course)
    client = reader.test_client()
    client.get("/courses/catalogue")
    assert hit(client.get("/courses/catalogue"))
    with writer.app_context():
        db.session.execute(update(course_type).where(course_type.id == course_id).values(title="Lớp sau khi sửa"))
        db.session.commit()
    page = client.get("/courses/catalogue")
    assert not hit(page) and "Lớp sau khi sửa" in page.get_data(as_text=True)
    for app in (reader, writer):
        with app.app_context():
            db.engine.dispose()


def test_what_may_be_kept():
    assert pagecache.storable_seconds("200 OK", [("Cache-Control", "public, max-age=60")]) == 60
    assert pagecache.storable_seconds("404 NOT FOUND", [("Cache-Control", "public, max-age=60")]) == 0
    assert pagecache.storable_seconds("200 OK", [("Cache-Control", "private, max-age=60")]) == 0
    assert pagecache.storable_seconds("200 OK", [("Cache-Control", "no-store")]) == 0
    assert pagecache.storable_seconds("200 OK", [("Cache-Control", "public, max-age=60"), ("Set-Cookie", "a=b")]) == 0
    assert pagecache.storable_seconds("200 OK", []) == 0


def test_staff_pages_and_posts_go_to_flask(client, make, cache):
    course = make.course(status="open")
    assert client.get(f"/courses/{course.id}").status_code == 302  # login required, not kept
    assert client.get(f"/courses/{course.id}").status_code == 302
    client.post("/courses/catalogue")
    assert len(cache) == 0
    fresh()
