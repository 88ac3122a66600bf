"""Every route, enumerated from the URL map: deny by default, CSRF on every POST."""

from __future__ import annotations

import re

import pytest

from tests.conftest import login

# Endpoints that are public on purpose; anything else must send an anonymous user to login.
PUBLIC = {"static", "main.index", "main.healthz", "auth.login"}
# Later features list their public pages here (catalogue, certificate verification, …).
EXTRA_PUBLIC: set[str] = set()
# courses: the catalogue of open courses, a published course's page and its iCalendar feed.
EXTRA_PUBLIC |= {"courses.catalogue", "courses.public_detail", "courses.ical"}
# Enrolment: self sign-up, and a published course's registration page (guest form).
EXTRA_PUBLIC |= {"enrollment.signup", "enrollment.register"}
# certificates: the verification page (QR code), its form and its JSON form.
EXTRA_PUBLIC |= {"certificates.verify_form", "certificates.verify", "certificates.verify_json"}
# reports: the statistics API — no login redirect, but a valid personal token is required (401 without).
EXTRA_PUBLIC |= {"reports_api.stats"}
# checkin: the URL inside a session's rotating QR code (the phone may not be signed in yet; it only
# remembers the scan in this browser's session and sends the person to sign in and confirm).
EXTRA_PUBLIC |= {"checkin.scan_code"}


def _sample_url(rule) -> str:
    from werkzeug.routing.converters import NumberConverter

    values = {arg: 1 if isinstance(rule._converters[arg], NumberConverter) else "x" for arg in rule.arguments}
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(values[m.group(1)]), rule.rule)


def _rules(app, method):
    return [r for r in app.url_map.iter_rules() if method in r.methods and not r.endpoint.endswith("static")]


def test_public_endpoints_are_exactly_the_expected_ones(app):
    from bdg_training.access import is_public_endpoint

    with app.test_request_context():
        public = {r.endpoint for r in app.url_map.iter_rules() if is_public_endpoint(r.endpoint) and not r.endpoint.endswith("static")}
    assert public == (PUBLIC | EXTRA_PUBLIC) - {"static"}


def test_every_non_public_get_redirects_anonymous_users_to_login(client, app):
    checked = 0
    for rule in _rules(app, "GET"):
        if rule.endpoint in PUBLIC or rule.endpoint in EXTRA_PUBLIC:
            continue
        response = client.get(_sample_url(rule))
        assert response.status_code == 302, rule.rule
        assert "/login" in response.headers["Location"], rule.rule
        checked += 1
    assert checked >= 10


def test_every_non_public_post_redirects_anonymous_users_to_login(client, app):
    for rule in _rules(app, "POST"):
        if rule.endpoint in PUBLIC or rule.endpoint in EXTRA_PUBLIC:
            continue
        response = client.post(_sample_url(rule), data={})
        assert response.status_code == 302 and "/login" in response.headers["Location"], rule.rule


def test_every_post_refuses_a_request_without_csrf_token(client, app, make, csrf_on):
    admin = make.user("admin")
    login(client, admin)
    posts = _rules(app, "POST")
    assert len(posts) >= 8
    for rule in posts:
        response = client.post(_sample_url(rule), data={"login": "admin", "password": "x"})
        assert response.status_code == 400, rule.rule
        assert "biểu mẫu" in response.get_data(as_text=True), rule.rule


@pytest.mark.parametrize("role", ["trainee"])
def test_trainee_reaches_no_staff_page(client, app, make, role):
    user = make.user(role)
    login(client, user)
    for rule in _rules(app, "GET"):
        if rule.endpoint in PUBLIC or rule.endpoint in EXTRA_PUBLIC or not _is_staff_endpoint(rule.endpoint):
            continue
        response = client.get(_sample_url(rule))
        assert response.status_code in (403, 404), rule.rule


def _is_staff_endpoint(endpoint: str) -> bool:
    return endpoint.split(".")[0] in {"units", "audit", "courses", "reports"} or endpoint.startswith("auth.user")


def test_unknown_page_is_a_vietnamese_404(client):
    response = client.get("/khong-co-trang-nay")
    assert response.status_code == 404
    assert "Không tìm thấy trang" in response.get_data(as_text=True)
    assert '<html lang="vi">' in response.get_data(as_text=True)
