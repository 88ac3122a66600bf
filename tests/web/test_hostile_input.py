"""Hostile input sweep: random and hostile strings posted to every form of the app.

On the demo data, every role (admin, organizer, signer, trainee, anonymous) crawls the app from its home
page and from each demo course's pages, collecting every form it is shown — the real field names, hidden
values and select options, as a browser would see them (CSRF is off in the test app). Hypothesis then
fills each form with hostile values — very long text, NFD Vietnamese, bidi and zero-width marks, HTML and
template syntax, SQL fragments, NUL and control characters, emoji, odd digits and dates, and random
unicode without surrogates — mixed with the form's own valid values, so that both the validation and the
saving paths run. POST routes of the URL map that no page shows a form for are posted to directly, with the
field names of a generic form.

Asserted: no request ever fails with a server error (the test app propagates exceptions, so a crash
surfaces with its traceback and the falsifying example), and afterwards every String/Text column of every
table holds NFC text without NUL.

Deterministic (``derandomize=True``) and bounded: a few examples per form, well under a few minutes.
"""

from __future__ import annotations

import io
import os
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import String, Text, select
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from bdg_training import demo
from bdg_training.auth.models import User
from bdg_training.extensions import db
from tests.conftest import fresh, login

ROLES = ["admin", "tochuc.codo", "nguoiky.codo", "hocvien", None]  # None: anonymous
EXAMPLES = int(os.environ.get("SWEEP_EXAMPLES", "12"))  # per form (GET forms: a third); more for a deeper local sweep
SLOW = {"certificates.template_preview": 3, "certificates.issue_all": 2, "certificates.print_course": 2, "certificates.job_retry": 2}
SKIP_GET = (".pdf", ".xlsx", ".zip", ".ics", ".json", "/state", "/print", "/sign-in", "/attachments/", "/pdf")
PER_ENDPOINT = 3  # pages crawled per endpoint and role (beyond the seeded start pages)
DESTRUCTIVE = (
    "delete",
    "close",
    "cancel",
    "revoke",
    "withdraw",
    "logout",
    "merge",
    "set_active",
    "reset_password",
    "retire",
    "remove",
    "decide",
)

NFD = unicodedata.normalize("NFD", "Nguyễn Thị Hòa Bình, Ủy ban nhân dân xã Cờ Đỏ")
HOSTILE = [
    "",
    " ",
    "A" * 5000,
    "ệ" * 3000,
    "1" * 400,
    NFD,
    "Hoà" + "\u0301\u0323",  # stray combining marks
    "\u202eNguyễn\u202c",
    "\u200fتست\u200e",
    "a\u200bb\u200cc\u200dd\ufeff",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }}{% raw %}",
    "' OR '1'='1",
    "'; DROP TABLE users; --",
    "%_\\",
    "\x00",
    "Lê\x00Văn",
    "\x07\x1b[31m\x7f",
    "\r\n\r\n",
    "\t\u00a0\u3000\u2028\u2029",
    "👩‍👩‍👧‍👦🙂🇻🇳",
    "-1",
    "0",
    "1e309",
    "NaN",
    "9" * 40,
    "2147483648",  # one past a database integer
    "9223372036854775808",  # one past a 64-bit integer
    "²",  # "²".isdigit() is true, int("²") fails
    "+1",
    " 7 ",
    "１２３",
    "٣٤",
    "7,5",
    "31/02/2026",
    "00/00/0000",
    "29/02/2025",
    "99/99/9999 25:61",
    "2026-13-01",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "../../etc/passwd",
    "None",
    "true",
]
RANDOM_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
HOSTILE_TEXT = st.one_of(st.sampled_from(HOSTILE), RANDOM_TEXT, st.builds(lambda a, b: a + b, st.sampled_from(HOSTILE), RANDOM_TEXT))
GENERIC_FIELDS = ["name", "title", "reason", "note", "q", "text", "code", "ids", "action", "trainee_id", "keep_id", "successor_id", "value"]


# --- crawling ---------------------------------------------------------------------------------------
@dataclass
class FormField:
    name: str
    kind: str  # text, textarea, select, hidden, checkbox, radio, file, submit
    values: list[str] = field(default_factory=list)  # default value / options / checkbox values


@dataclass
class Form:
    method: str
    action: str  # path with query
    fields: dict[str, FormField] = field(default_factory=dict)


class FormParser(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: FormField | None = None
        self._textarea: FormField | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = Form((a.get("method") or "get").lower(), a.get("action") or self.page)
            self.forms.append(self._form)
        elif self._form is not None and a.get("name"):
            name = a["name"]
            if tag == "input":
                kind = (a.get("type") or "text").lower()
                if kind in ("submit", "button", "image", "reset"):
                    kind = "submit"
                entry = self._form.fields.setdefault(name, FormField(name, kind))
                if a.get("value") is not None:
                    entry.values.append(a["value"])
                if a.get("formaction"):
                    self.forms.append(Form("post", a["formaction"], dict(self._form.fields)))
            elif tag == "button":
                entry = self._form.fields.setdefault(name, FormField(name, "submit"))
                entry.values.append(a.get("value") or "")
            elif tag == "select":
                self._select = self._form.fields.setdefault(name, FormField(name, "select"))
            elif tag == "textarea":
                self._textarea = self._form.fields.setdefault(name, FormField(name, "textarea"))
        elif tag == "option" and self._select is not None:
            self._select.values.append(a.get("value", ""))
        elif tag == "button" and self._form is not None and a.get("formaction"):
            self.forms.append(Form("post", a["formaction"], dict(self._form.fields)))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None and not self._textarea.values:
            self._textarea.values.append(data)


def _login_as(client, username: str | None) -> None:
    with client.session_transaction() as session:
        session.clear()
    if username is not None:
        fresh()
        user = db.session.scalar(select(User).where(User.username == username))
        if not user.active:
            user.active = True
            db.session.commit()
        login(client, user)


def _prepare() -> list[str]:
    """Put the demo in the states where the last forms show — hocvien in the middle of her online pre-test,
    an open course evaluation, a check-in code on the screen — and return the pages that show them."""
    from bdg_training.assessments import services as assessments
    from bdg_training.assessments.models import EvaluationForm
    from bdg_training.checkin import services as checkin
    from bdg_training.courses.models import Course, CourseSession
    from bdg_training.database import utcnow
    from bdg_training.enrollment.models import Enrollment, Trainee

    user = db.session.scalar(select(User).where(User.username == "hocvien"))
    trainee = db.session.scalar(select(Trainee).where(Trainee.user_id == user.id))
    mine = db.session.scalars(select(Enrollment).where(Enrollment.trainee_id == trainee.id, Enrollment.status == "confirmed")).all()
    pages = []
    for enrollment in mine:
        forms = assessments.forms_of(enrollment.course)
        if "pre" in forms and forms["pre"].window_state(utcnow()) == "open":
            assessments.start_attempt(user, enrollment, "pre", utcnow())
        evaluation = db.session.scalar(select(EvaluationForm).where(EvaluationForm.course_id == enrollment.course_id))
        if evaluation is not None:
            evaluation.is_open = True
    # An import waiting for its commit (tochuc.codo's), an override, a failed print job: their forms.
    from bdg_training.certificates import services as certificates
    from bdg_training.certificates.models import CertificateJob
    from bdg_training.enrollment import importer
    from bdg_training.enrollment import services as enrollment

    organizer = db.session.scalar(select(User).where(User.username == "tochuc.codo"))
    signer = db.session.scalar(select(User).where(User.username == "nguoiky.codo"))
    running = db.session.scalar(select(Course).where(Course.status == "running", Course.code != "DEMO-QR"))
    table = importer.read_table("danh-sach.csv", "Họ,Tên đệm,Tên,Giới tính,Ngày sinh\nNguyễn,Thị,Lan,Nữ,05/02/1985\n".encode())
    batch = enrollment.store_batch(organizer, running, "danh-sach.csv", table, now=utcnow())
    finished = next(e.course for e in mine if e.course.status == "finished")
    rows = certificates.review(finished, today=date.today())
    ineligible = next(r for r in rows if not r.can_issue and r.valid_certificate is None and r.can_override)
    certificates.set_override(signer, ineligible.enrollment, "Vắng một buổi vì lý do sức khỏe, có giấy xác nhận", today=date.today())
    issued = [r.valid_certificate.id for r in rows if r.valid_certificate is not None]
    job = certificates.create_job(signer, finished, issued[:2])
    db.session.flush()
    db.session.execute(CertificateJob.__table__.update().where(CertificateJob.id == job.id).values(status="failed", error="Lỗi thử"))
    session = db.session.scalar(select(CourseSession).join(Course).where(Course.code == "DEMO-QR"))
    db.session.commit()
    pages += [f"/imports/{batch.id}", f"/certificates/jobs/{job.id}"]
    pages.append(f"/checkin/c/{checkin.session_code(session.id, utcnow())}")  # last: see the sweep
    return pages


def _start_pages() -> list[str]:
    from bdg_training.courses.models import Course

    pages = ["/"]
    for course in db.session.scalars(select(Course).order_by(Course.id)):
        c = course.id
        pages += [f"/courses/{c}", f"/classes/{c}", f"/classes/{c}?status=pending", f"/classes/{c}/attendance", f"/classes/{c}/add?q=Nguyễn", f"/assessments/courses/{c}",
                  f"/assessments/courses/{c}/paper", f"/assessments/courses/{c}/evaluation", f"/certificates/courses/{c}",
                  f"/assessments/me/courses/{c}/pre", f"/assessments/me/courses/{c}/post", f"/assessments/me/courses/{c}/evaluation",
                  f"/register/{c}", f"/courses/{c}/edit", f"/courses/{c}/cancel", f"/courses/{c}/clone"]  # fmt: skip
    pages += ["/trainees/duplicates", "/certificates/mine", "/me/courses", "/me/profile", "/signup", "/login", "/verify/", "/reports/tokens",
              "/notifications/templates", "/notifications/preferences", "/units/signers", "/admin/users", "/certificates/issuers"]  # fmt: skip
    return pages


def crawl(app, client, username: str | None, extra_pages: list[str]) -> list[Form]:
    adapter = app.url_map.bind("localhost")
    seen_pages: set[str] = set()
    per_endpoint: dict[str, int] = defaultdict(int)
    queue = [(page, True) for page in _start_pages() + extra_pages]
    forms: list[Form] = []
    while queue:
        url, seeded = queue.pop(0)
        parts = urlsplit(url)
        if parts.netloc or parts.scheme or not parts.path.startswith("/") or url in seen_pages:
            continue
        if parts.path.startswith("/static/") or any(marker in parts.path for marker in SKIP_GET) or "download=" in parts.query:
            continue
        try:
            endpoint, _ = adapter.match(parts.path, method="GET")
        except (NotFound, MethodNotAllowed, RequestRedirect):
            continue
        if not seeded:
            if per_endpoint[endpoint] >= PER_ENDPOINT:
                continue
            per_endpoint[endpoint] += 1
        seen_pages.add(url)
        _login_as(client, username)
        response = client.get(url, follow_redirects=True)
        if response.status_code != 200 or not response.content_type.startswith("text/html"):
            continue
        final = response.request.path + (f"?{response.request.query_string.decode()}" if response.request.query_string else "")
        parser = FormParser(final)
        parser.feed(response.get_data(as_text=True))
        forms += parser.forms
        queue += [(link, False) for link in parser.links if not link.startswith("#")]
    return forms


# --- fuzzing ----------------------------------------------------------------------------------------
def _value_strategy(entry: FormField):
    if entry.kind in ("select", "radio", "checkbox") and entry.values:
        return st.one_of(st.sampled_from(entry.values), HOSTILE_TEXT)
    if entry.kind == "hidden":
        return st.one_of(st.just(entry.values[0] if entry.values else ""), HOSTILE_TEXT)
    if entry.kind == "submit":
        return st.sampled_from(entry.values or [""])
    if entry.kind == "file":
        return st.builds(
            lambda data, name: (io.BytesIO(data), name),
            st.one_of(st.binary(max_size=300), st.sampled_from([b"", b"PK\x03\x04garbage", "Họ,Tên\nNguyễn,Thị\n".encode("utf-16")])),
            st.sampled_from(["danh-sach.xlsx", "danh-sach.csv", "<x>.xlsx", "a\x00.csv", "tệp.txt"]),
        )
    default = entry.values[0] if entry.values else ""
    return st.one_of(st.just(default), HOSTILE_TEXT) if default else HOSTILE_TEXT


def _valid_values() -> dict[str, str]:
    """Plausible values for the fields of empty "new …" forms, so that one hostile field among valid ones
    gets past the required-field checks into the rules and the services."""
    soon, later = date.today() + timedelta(days=30), date.today() + timedelta(days=31)
    d = "%d/%m/%Y"
    return {
        "family_name": "Nguyễn", "middle_name": "Thị", "given_name": "Lan", "sex": "nu", "birth": "05/02/1985", "phone": "0912 345 678",
        "email": "lan@example.vn", "password": "mat-khau-rat-dai-1", "confirm": "mat-khau-rat-dai-1", "new_password": "mat-khau-rat-dai-2",
        "current_password": "mat-khau-demo-1", "consent": "y", "title": "Lớp thử nghiệm", "capacity": "30", "venue": "Hội trường",
        "start_date": soon.strftime(d), "end_date": later.strftime(d), "date": soon.strftime(d), "start_time": "07:30", "end_time": "11:00",
        "reg_opens_at": date.today().strftime(d) + " 07:00", "reg_closes_at": (soon - timedelta(days=3)).strftime(d) + " 17:00",
        "name": "Tên thử nghiệm", "username": "nguoi.thu", "full_name": "Trần Văn Thử", "reason": "Lý do ghi rõ để lưu vào hồ sơ",
        "text": "Câu hỏi thử nghiệm?", "option_0": "Phương án A", "option_1": "Phương án B", "correct_0": "y", "points": "1",
        "planned_courses": "3", "planned_trainees": "50", "planned_female_pct": "50", "year": str(date.today().year), "subject": "Buổi học",
        "trainer": "Giảng viên", "valid_from": "01/01/2026", "governing_body": "UBND XÃ", "issuing_body": "XÃ THỬ", "place_name": "Cần Thơ",
        "short_code": "TT", "code": "", "note": "Ghi chú", "subject_line": "Tiêu đề", "body": "Nội dung {{ ten_lop }}",
    }  # fmt: skip


VALID = _valid_values()


def _default(entry: FormField) -> str | list | None:
    if entry.kind in ("select", "radio") and entry.values:
        return next((v for v in entry.values if v), entry.values[0])
    if entry.kind == "file":
        return None
    value = entry.values[0] if entry.values else ""
    return value or VALID.get(entry.name, value)


def _data_strategy(form: Form):
    names = [name for name in form.fields if name != "csrf_token"]
    everything = st.fixed_dictionaries({name: st.one_of(st.none(), _value_strategy(form.fields[name])) for name in names})
    if not names:
        return everything
    defaults = {name: _default(form.fields[name]) for name in names}
    one_hostile = st.builds(lambda name, value: {**defaults, name: value}, st.sampled_from(names), HOSTILE_TEXT)
    return st.one_of(one_hostile, everything)


def fuzz(app, client, username, form: Form, endpoint: str, examples: int, before: str | None = None) -> int:
    sent = [0]

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=_data_strategy(form))
    def post(data):
        payload = {k: v for k, v in data.items() if v is not None}
        _login_as(client, username)
        if before:
            client.get(before)  # e.g. the QR code's URL, which puts the scan in the session
        if form.method == "get":
            path, _, query = form.action.partition("?")
            args = dict(parse_qsl(query))
            args.update({k: v for k, v in payload.items() if isinstance(v, str)})
            response = client.get(path + "?" + urlencode(args))
        else:
            response = client.post(form.action, data=payload, content_type="multipart/form-data" if _has_file(payload) else None)
        sent[0] += 1
        assert response.status_code < 500, (
            f"{username or 'anonymous'} {form.method.upper()} {form.action} ({endpoint}) → {response.status_code}"
        )

    post()
    return sent[0]


def _has_file(payload) -> bool:
    return any(isinstance(v, tuple) for v in payload.values())


def _fallback_url(rule, ids: dict[str, object]) -> str | None:
    values = {}
    for arg in rule.arguments:
        if arg not in ids:
            return None
        values[arg] = ids[arg]
    try:
        return rule.build(values, append_unknown=False)[1]
    except Exception:  # noqa: BLE001 - a converter refusing the value: no fallback for this route
        return None


def _ids() -> dict[str, object]:
    """One existing object per URL argument name, for routes no page showed a form for."""
    from bdg_training.assessments.models import Question
    from bdg_training.certificates.models import Certificate, CertificateJob, CertificateOverride
    from bdg_training.courses.models import Course, CourseSession, Topic, TrainingPlan
    from bdg_training.enrollment.models import Enrollment, ImportBatch, Trainee
    from bdg_training.notifications.models import OutboxMessage
    from bdg_training.units.models import Signer, Unit

    def first(model, *where):
        return db.session.scalar(select(model.id).where(*where).order_by(model.id).limit(1))

    running = first(Course, Course.status == "running")
    return {
        "course_id": running,
        "session_id": first(CourseSession, CourseSession.course_id == running),
        "enrollment_id": first(Enrollment, Enrollment.course_id == running),
        "trainee_id": first(Trainee),
        "question_id": first(Question),
        "certificate_id": first(Certificate),
        "job_id": first(CertificateJob),
        "override_id": first(CertificateOverride),
        "plan_id": first(TrainingPlan),
        "topic_id": first(Topic),
        "unit_id": first(Unit),
        "successor_id": first(Unit),
        "signer_id": first(Signer),
        "user_id": first(User),
        "batch_id": first(ImportBatch),
        "message_id": first(OutboxMessage),
        "token_id": 1,
        "kind": "pre",
        "event": "enrollment_confirmed",
        "index": 0,
        "year": date.today().year,
        "code": "MaKhongTonTai123456",
        "token": "khong-hop-le",
    }


# --- the sweep --------------------------------------------------------------------------------------
def test_hostile_input_to_every_form_never_crashes_and_stores_normalised_text(app, client, monkeypatch):
    for key in ("LOGIN_LIMIT_PER_IP", "LOGIN_LIMIT_PER_ACCOUNT", "SIGNUP_LIMIT_PER_IP", "CERTIFICATE_VERIFY_LIMIT"):
        monkeypatch.setitem(app.config, key, "1000000 per minute")  # measure the forms, not the limiter
    monkeypatch.setitem(app.config, "CERTIFICATE_JOBS_SYNC", True)  # print jobs in the request, not in a thread
    today = datetime.now(ZoneInfo(app.config["TIMEZONE"])).date()  # the app's today, as `flask seed-demo`
    demo.seed_all(today=today, passwords={u: "mat-khau-demo-1" for u in demo.demo_usernames()})
    db.session.commit()
    extra_pages = _prepare()

    # Every role's forms, as its pages show them.
    targets: dict[tuple[str | None, str, str, str], Form] = {}
    adapter = app.url_map.bind("localhost")
    for username in ROLES:
        for form in crawl(app, client, username, extra_pages):
            path = urlsplit(form.action).path
            method = "POST" if form.method == "post" else "GET"
            try:
                endpoint, _ = adapter.match(path, method=method)
            except (NotFound, MethodNotAllowed, RequestRedirect):
                continue
            key = (username, endpoint, method, path if method == "POST" else "")
            if key not in targets and sum(1 for k in targets if k[:3] == key[:3]) < 2:
                targets[key] = form
    covered = {endpoint for (_, endpoint, method, _) in targets if method == "POST"}

    # POST routes no page showed a form for: posted to directly as admin (then as the trainee), generic fields.
    ids = _ids()
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in covered or rule.endpoint == "static":
            continue
        url = _fallback_url(rule, ids)
        if url is None:
            continue
        generic = Form("post", url, {name: FormField(name, "text") for name in GENERIC_FIELDS})
        for username in ("admin", "hocvien", None):
            targets[(username, rule.endpoint, "POST", url)] = generic
    post_routes = {r.endpoint for r in app.url_map.iter_rules() if "POST" in r.methods and r.endpoint != "static"}
    swept = {endpoint for (_, endpoint, method, _) in targets if method == "POST"}
    # Every POST route: a new one needs a page that shows its form, or its URL arguments in _ids().
    assert swept == post_routes, f"forms not reached: {sorted(post_routes - swept)}"

    # Destructive actions last, so that they do not take away what the other forms work on.
    order = sorted(targets, key=lambda k: (any(word in k[1] for word in DESTRUCTIVE), k[1] == "auth.logout", k[1], k[2], str(k[0]), k[3]))
    sent = 0
    for username, endpoint, method, _path in order:
        examples = SLOW.get(endpoint, EXAMPLES if method == "POST" else max(2, EXAMPLES // 3))
        before = extra_pages[-1] if endpoint == "checkin.confirm" else None
        sent += fuzz(app, client, username, targets[(username, endpoint, method, _path)], endpoint, examples, before)
    assert sent > 500
    if os.environ.get("SWEEP_REPORT"):
        print(
            f"\n{sent} requests; POST routes {len(post_routes)}, reached through a page: {len(covered)}, directly: {len(swept - covered)}"
        )
        print("   not reached:", sorted(post_routes - swept))
        for key in order:
            print("  ", key[0] or "anonymous", key[2], key[1], key[3], sorted(targets[key].fields))

    # Nothing stored un-normalised: every String/Text column, every row.
    fresh()
    bad = []
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text)]
        if not columns:
            continue
        for row in db.session.execute(select(*columns)):
            for column, value in zip(columns, row, strict=True):
                if isinstance(value, str) and (value != unicodedata.normalize("NFC", value) or "\x00" in value):
                    bad.append(f"{table.name}.{column.name}: {value[:80]!r}")
    assert bad == []


def test_hostile_values_in_url_paths_are_never_a_server_error(app, client, make):
    """Every route, with each path argument replaced by a hostile value (an id beyond a database integer,
    long, NUL, NFD, markup), for an admin, a trainee and an anonymous visitor: a 4xx or a page, never a 500."""
    import re

    admin = make.user("admin", username="quan.tri")
    trainee = make.user("trainee", username="hoc.vien")
    ints = [2**31, 10**25]
    texts = ["x" * 300, "\x00", NFD, "<script>", "..", "1e309"]
    adapter = app.url_map.bind("localhost")
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or not rule.arguments:
            continue
        kinds = {name: converter or "default" for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule.rule)}
        for arg in sorted(rule.arguments):
            for bad in ints if kinds[arg] == "int" else texts:
                values = {a: bad if a == arg else (1 if kinds[a] == "int" else "pre") for a in rule.arguments}
                for method in sorted(rule.methods & {"GET", "POST"}):
                    path = adapter.build(rule.endpoint, values, method=method)
                    for user in (admin, trainee, None):
                        with client.session_transaction() as session:
                            session.clear()
                        if user is not None:
                            login(client, user)
                        response = client.open(path, method=method)
                        checked += 1
                        assert response.status_code < 500, f"{method} {path} as {user.username if user else 'anonymous'}"
    assert checked > 300


def test_hostile_report_filters_are_not_a_server_error(app, client, make):
    """?unit=² and ?unit=<beyond a database integer> were 500s on every report page (found by the sweep)."""
    admin = make.user("admin", username="quan.tri")
    login(client, admin)
    for path in ("/reports/", "/reports/plans", "/reports/learning"):
        for value in ("²", "9" * 25, "2147483648", "-1", NFD, "\x00"):
            assert client.get(path, query_string={"unit": value}).status_code < 500, (path, value)
            assert client.get(path, query_string={"year": value, "from": value, "to": value}).status_code < 500, (path, value)
