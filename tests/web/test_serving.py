"""Production serving: the app behind a reverse proxy (PROXY_FIX) and the public pages' caching headers."""

from __future__ import annotations

import logging

import pytest

from bdg_training import create_app
from tests.conftest import login

FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "taphuan.cantho.gov.vn"}


@pytest.fixture
def proxied(tmp_path):
    def build(hops):
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'proxy.db'}", PROXY_FIX=hops)
        return app.test_client()

    return build


def test_behind_a_proxy_the_forwarded_client_and_https_are_trusted(proxied, caplog):
    client = proxied(1)
    with caplog.at_level(logging.INFO, logger="bdg_training.requests"):
        response = client.get("/healthz", headers=FORWARDED)
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")  # HTTPS at the proxy
    assert "ip=203.0.113.7" in caplog.text  # the client, not the proxy (rate limits key on it too)


def test_without_proxy_fix_forwarded_headers_are_ignored(proxied, caplog):
    client = proxied(0)
    with caplog.at_level(logging.INFO, logger="bdg_training.requests"):
        response = client.get("/healthz", headers=FORWARDED)
    assert "Strict-Transport-Security" not in response.headers  # anyone can send X-Forwarded-Proto
    assert "ip=203.0.113.7" not in caplog.text and "ip=127.0.0.1" in caplog.text


def test_proxy_fix_setting_from_the_environment():
    from config import _proxy_hops

    assert [_proxy_hops(v) for v in (None, "", "0", "1", "2", "yes", "no")] == [0, 0, 0, 1, 2, 1, 0]


def test_public_pages_may_be_cached_for_anonymous_visitors_only(client, make):
    course = make.course(status="open", title="Lớp công khai")
    for path in ("/courses/catalogue", f"/courses/catalogue/{course.id}"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=60", path
        assert "Cookie" in response.headers["Vary"]
    organizer = make.user("organizer", unit=course.unit)
    login(client, organizer)
    response = client.get("/courses/catalogue")
    assert "public" not in response.headers.get("Cache-Control", "")  # the page carries the user's menu


def test_a_verification_is_cacheable_but_an_unknown_code_is_not(client, make):
    from bdg_training.certificates import services
    from bdg_training.database import utcnow
    from bdg_training.extensions import db

    world = make.certificate_class([{"name": "Trần Thị Mỹ Duyên"}])
    signer = make.user("signer", unit=world["issuer"])
    [certificate] = services.issue_all(signer, world["course"].id, now=utcnow())
    db.session.commit()
    response = client.get(f"/verify/{certificate.verify_code}")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "public, max-age=60"
    missing = client.get("/verify/MaKhongTonTai123456")
    assert missing.status_code == 404 and "public" not in missing.headers.get("Cache-Control", "")
    assert client.get(f"/verify/{certificate.verify_code}.json").headers["Cache-Control"] == "no-store"
