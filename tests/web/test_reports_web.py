"""Report pages, exports and API: the screen, the .xlsx and the JSON all equal the hand tables
(tests/integration/test_reports.py, data in tests/report_dataset.py); scope; tokens; drill-down links."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html.parser import HTMLParser
from io import BytesIO
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook

from bdg_training.extensions import db
from bdg_training.reports import services
from tests import report_dataset
from tests.conftest import fresh, login
from tests.integration.test_reports import EXPECTED_2026, TODAY, Z

DIMS = ("unit", "topic", "target_group", "ethnicity", "age", "area")
COURSE_DIMS = ("unit", "topic")


@pytest.fixture
def data(make, monkeypatch):
    monkeypatch.setattr(services, "today", lambda: TODAY)
    return report_dataset.build(make)


def number(text: str):
    """A figure as the page shows it: "1.234" → 1234, "62,5%" → 62.5, "—" → None."""
    text = text.strip()
    if text == "—":
        return None
    if text.endswith("%"):
        return float(text[:-1].replace(",", "."))
    return int(text.replace(".", ""))


class Tables(HTMLParser):
    """Cells of every ``<table id=…>``: {id: [(row attrs, [cell texts], [links])]}."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list] = {}
        self.links: list[tuple[str, str]] = []
        self._table = None
        self._row = None
        self._cell = None
        self._href = None
        self._link_text = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id"):
            self._table = attrs["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = (attrs, [], [])
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "a":
            self._href = attrs.get("href")
            self._link_text = []

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row[1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "a" and self._href is not None:
            text = "".join(self._link_text).strip()
            self.links.append((self._href, text))
            if self._row is not None:
                self._row[2].append((self._href, text))
            self._href = None

    def handle_data(self, text):
        if self._cell is not None:
            self._cell.append(text)
        if self._href is not None:
            self._link_text.append(text)


def parse(html: str) -> Tables:
    parser = Tables()
    parser.feed(html)
    return parser


def _splits(cells: list[str], n: int) -> tuple:
    values = [number(c) for c in cells]
    return tuple(tuple(values[i * 4 : i * 4 + 4]) for i in range(n))


def page_figures(html: str) -> dict:
    """The dashboard page read back into the shape of tests.integration.test_reports.figures()."""
    tables = parse(html).tables
    result = {}
    for attrs, cells, _ in tables["table-headline"]:
        if attrs.get("data-row"):
            result[attrs["data-row"]] = _splits(cells[1:], 1)[0]
    for dim in DIMS:
        rows = {}
        order = []
        for attrs, cells, _ in tables[f"table-{dim}"]:
            if "data-key" not in attrs:
                continue
            label, rest = cells[0], cells[1:]
            if dim in COURSE_DIMS:
                rows[label] = (number(rest[0]), *_splits(rest[1:], 3))
            else:
                rows[label] = _splits(rest, 3)
            order.append(label)
        result[dim] = rows
        result.setdefault("order", {})[dim] = order
    return result


def test_dashboard_page_equals_the_hand_tables(client, make, data):
    login(client, make.user("admin", unit=data["units"]["city"]))
    response = client.get("/reports/?year=2026")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    got = page_figures(html)
    for key in ("participations", "persons", "certificates", *DIMS, "order"):
        assert got[key] == EXPECTED_2026[key], key
    for cls, n in EXPECTED_2026["courses"].items():
        assert re.search(rf'data-figure="courses-{cls}"><a class="report-count" href="[^"]+">{n}</a>', html), cls
    # footnotes come from the rules
    assert "Lượt người: một lượt ghi danh đã được xác nhận" in html and "sinh ngày 01/7" in html
    assert "như tại thời điểm tổ chức" in html


def test_every_nonzero_number_links_to_exactly_its_rows(client, make, data):
    login(client, make.user("admin", unit=data["units"]["city"]))
    parsed = parse(client.get("/reports/?year=2026").get_data(as_text=True))
    links = [(href, number(text)) for href, text in parsed.links if "/reports/rows/" in href]
    assert len(links) > 150
    checked = 0
    for href, shown in links:
        query = parse_qs(urlsplit(href).query)
        assert query["year"] == ["2026"], href  # the same filters
        if not shown:
            continue
        page = client.get(href + "&page=1")
        assert page.status_code == 200, href
        total = re.search(r'data-total="(\d+)"', page.get_data(as_text=True))
        assert total and int(total.group(1)) == shown, href
        checked += 1
    assert checked > 80


def test_drilldown_page_lists_the_people(client, make, data):
    login(client, make.user("admin", unit=data["units"]["city"]))
    x_codo = data["units"]["x_codo"].id
    html = client.get(f"/reports/rows/people?year=2026&dim=unit&key=u{x_codo}&sex=nu").get_data(as_text=True)
    names = [cells[0] for attrs, cells, _ in parse(html).tables["drill-table"] if attrs.get("data-id")]
    assert sorted(names) == sorted(["Nguyễn Thị An", "Lê Thị Cúc", "Võ Thị Em"])
    assert "xã Cờ Đỏ" in html and "Giới tính: Nữ" in html
    assert client.get("/reports/rows/secrets?year=2026").status_code == 404
    assert client.get("/reports/rows/people?year=2026&dim=password").status_code == 404


def _sheet_rows(ws, header_first: str, header_second: str | None = None) -> list[list]:
    """Rows under the (bold) header row starting with these cells, until a blank row."""
    rows = list(ws.iter_rows())
    for i, row in enumerate(rows):
        if (
            row[0].value == header_first
            and row[0].font.bold
            and (header_second is None or (len(row) > 1 and row[1].value == header_second))
        ):
            out = []
            for data_row in rows[i + 1 :]:
                if data_row[0].value in (None, ""):
                    break
                out.append(data_row)
            return out
    raise AssertionError(f"no header {header_first!r} in {ws.title}")


def _xlsx_split(cells) -> tuple:
    nam, nu, total, pct = (c.value for c in cells)
    for cell in cells[:3]:
        assert isinstance(cell.value, int), cell.coordinate
    if total:
        assert isinstance(pct, int | float) and cells[3].number_format == "0.0%", cells[3].coordinate  # 100 % reads back as 1
        pct = round(pct * 100, 1)
    else:
        assert pct == "—"
        pct = None
    return (nam, nu, total, pct)


def test_xlsx_equals_the_hand_tables(client, make, data):
    login(client, make.user("admin", unit=data["units"]["city"]))
    response = client.get("/reports/export.xlsx?year=2026")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    wb = load_workbook(BytesIO(response.data))
    overview = wb["Tổng quan"]
    # filters and counting rules at the top
    texts = [row[0].value for row in overview.iter_rows(max_row=25)]
    assert overview["A1"].value == "Báo cáo thống kê tập huấn bình đẳng giới"
    assert any(str(t).startswith("Lượt người: một lượt ghi danh") for t in texts if t)
    filters = {row[0].value: row[1].value for row in overview.iter_rows(min_row=2, max_row=5)}
    assert filters["Kỳ báo cáo"] == "Năm 2026 (01/01/2026 – 31/12/2026)" and filters["Đơn vị"] == "Tất cả đơn vị"
    headline = {row[0].value: _xlsx_split(row[1:5]) for row in _sheet_rows(overview, "Chỉ tiêu")}
    assert headline == {
        "Lượt người": EXPECTED_2026["participations"],
        "Người": EXPECTED_2026["persons"],
        "Giấy chứng nhận": EXPECTED_2026["certificates"],
    }
    courses = {row[0].value: row[1].value for row in _sheet_rows(overview, "Số lớp")}
    assert courses == {"Lớp đã tổ chức": 4, "Lớp đã hủy": 1, "Lớp chưa diễn ra": 1}
    from bdg_training.reports.exports import SHEET_NAMES

    board = services.dashboard(
        services.build_filters({"year": "2026"}, make.user("admin"), today=TODAY, units=services.load_units(TODAY)),
        units=services.load_units(TODAY),
    )
    for dim in DIMS:
        ws = wb[SHEET_NAMES[dim]]
        rows = {}
        for row in _sheet_rows(ws, board.breakdown(dim).label):
            if dim in COURSE_DIMS:
                rows[row[0].value] = (row[1].value, *(_xlsx_split(row[2 + 4 * i : 6 + 4 * i]) for i in range(3)))
            else:
                rows[row[0].value] = tuple(_xlsx_split(row[1 + 4 * i : 5 + 4 * i]) for i in range(3))
        assert rows == EXPECTED_2026[dim], dim
    plans = {row[0].value: [c.value for c in row[:12]] for row in _sheet_rows(wb["Kế hoạch"], "Đơn vị", "Văn bản kế hoạch")}
    assert (
        plans["xã Cờ Đỏ"][2:9] == [4, 2, 1, 10, 1, 3, 4]
        and plans["xã Cờ Đỏ"][9] == pytest.approx(0.6)
        and plans["xã Cờ Đỏ"][10] == pytest.approx(0.75)
    )
    assert plans["xã Vĩnh Thạnh"][11] == "Đúng tiến độ · tỷ lệ nữ thấp hơn kế hoạch"
    learning = [[c.value for c in row[:8]] for row in _sheet_rows(wb["Học tập"], "Nhóm")]
    assert learning[0] == ["Tất cả chủ đề", "Tổng", 5, 5.4, 8.0, 2.6, 0.57, "Trung bình"]


def _api(client, token, query="year=2026"):
    return client.get(f"/api/v1/stats?{query}", headers={"Authorization": f"Bearer {token}"} if token else {})


def _json_split(d):
    return (d["nam"], d["nu"], d["total"], d["pct_female"])


def test_api_equals_the_hand_tables(client, make, data):
    admin = make.user("admin", unit=data["units"]["city"])
    _, secret = services.create_token(admin, "Tổng hợp")
    db.session.commit()
    response = _api(client, secret)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["courses"] == EXPECTED_2026["courses"]
    for key in ("participations", "persons", "certificates"):
        assert _json_split(body[key]) == EXPECTED_2026[key], key
    for dim in DIMS:
        rows = {}
        for row in body["breakdowns"][dim]["rows"]:
            splits = tuple(_json_split(row[k]) for k in ("participations", "persons", "certificates"))
            rows[row["label"]] = (row["courses_held"], *splits) if dim in COURSE_DIMS else splits
        assert rows == EXPECTED_2026[dim], dim
    assert body["filters"]["period"] == {"start": "2026-01-01", "end": "2026-12-31", "label": "Năm 2026", "year": 2026}
    assert body["counting_rules"][0].startswith("Lượt người")
    assert {r["unit"]: r["status"] for r in body["plans"]["rows"]} == {"xã Cờ Đỏ": "behind", "xã Vĩnh Thạnh": "on_track"}
    assert body["learning"]["by_sex"][0] == {
        "label": "Tổng",
        "sex": "total",
        "n_matched": 5,
        "mean_pre": 5.4,
        "mean_post": 8.0,
        "mean_gain": 2.6,
        "class_g": 0.57,
        "hake_band": "medium",
    }


def test_api_refuses_missing_wrong_and_revoked_tokens(client, make, data):
    user = make.user("organizer", unit=data["units"]["x_codo"])
    token, secret = services.create_token(user, "Máy tổng hợp")
    db.session.commit()
    assert _api(client, None).status_code == 401
    assert _api(client, "sai-ma").status_code == 401
    response = client.get("/api/v1/stats?year=2026", headers={"Authorization": f"Basic {secret}"})
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert _api(client, secret).status_code == 200
    fresh()
    assert db.session.get(type(token), token.id).last_used_at is not None
    # a session cookie is not a credential for the API
    login(client, user)
    assert client.get("/api/v1/stats?year=2026").status_code == 401
    assert client.post("/api/v1/stats?year=2026", headers={"Authorization": f"Bearer {secret}"}).status_code == 405
    response = client.post(f"/reports/tokens/{token.id}/revoke")
    assert response.status_code == 302
    assert _api(client, secret).status_code == 401
    # the token of a deactivated user stops working too
    fresh()
    user = db.session.merge(user)
    _, other = services.create_token(user, "Mã thứ hai")
    db.session.commit()
    user.active = False
    db.session.commit()
    assert _api(client, other).status_code == 401


def test_api_is_rate_limited_per_token_and_guessing_per_address(app, client, make, data):
    user = make.user("organizer", unit=data["units"]["x_codo"])
    _, secret = services.create_token(user, "Máy tổng hợp")
    _, other = services.create_token(user, "Máy thứ hai")
    db.session.commit()
    app.config.update(REPORTS_API_LIMIT="3 per minute", REPORTS_API_FAILED_LIMIT="2 per minute")
    try:
        assert [_api(client, secret).status_code for _ in range(3)] == [200, 200, 200]
        over = _api(client, secret)
        assert over.status_code == 429 and over.is_json and "Retry-After" in over.headers
        assert _api(client, other).status_code == 200  # another token has its own budget
        assert [_api(client, f"doan-{i}").status_code for i in range(3)] == [401, 401, 429]  # guesses, per address
    finally:
        app.config.pop("REPORTS_API_LIMIT")
        app.config.pop("REPORTS_API_FAILED_LIMIT")


def test_api_scope_is_the_token_owners_subtree(client, make, data):
    u = data["units"]
    vt = make.user("organizer", unit=u["x_vt"])
    _, secret = services.create_token(vt, "Vĩnh Thạnh")
    db.session.commit()
    body = _api(client, secret).get_json()
    # only C3 (D, B); nothing of xã Cờ Đỏ
    assert body["courses"] == {"held": 1, "cancelled": 0, "upcoming": 0}
    assert _json_split(body["participations"]) == (2, 0, 2, 0.0)
    assert [r["label"] for r in body["breakdowns"]["unit"]["rows"]] == ["xã Vĩnh Thạnh"]
    assert [r["unit"] for r in body["plans"]["rows"]] == ["xã Vĩnh Thạnh"]
    assert _api(client, secret, f"year=2026&unit={u['x_codo'].id}").status_code == 404
    bad = _api(client, secret, "from=31/02/2026&to=01/03/2026")
    assert bad.status_code == 400 and "from" in bad.get_json()["errors"]


def test_organizer_of_xa_co_do_sees_only_its_subtree_on_screen(client, make, data):
    u = data["units"]
    login(client, make.user("organizer", unit=u["x_codo"]))
    html = client.get("/reports/?year=2026").get_data(as_text=True)
    got = page_figures(html)
    assert got["participations"] == (1, 5, 6, 83.3) and got["persons"] == (1, 3, 4, 75.0)
    assert set(got["unit"]) == {"Ban VSTBPN xã Cờ Đỏ", "xã Cờ Đỏ"}
    assert "xã Vĩnh Thạnh" not in html  # not even in the unit filter
    for path in ("/reports/", "/reports/plans", "/reports/learning", "/reports/rows/people", "/reports/export.xlsx", "/reports/export.pdf"):
        assert client.get(f"{path}?year=2026&unit={u['x_vt'].id}").status_code == 404, path
    assert client.get(f"/reports/?year=2026&unit={u['h_codo'].id}").status_code == 200  # its predecessor's history


def test_trainee_cannot_open_reports(client, make, data):
    login(client, make.user("trainee"))
    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/tokens").status_code == 403


def test_token_page_shows_the_secret_once_and_stores_only_its_hash(client, make, data):
    from bdg_training.reports.models import ApiToken

    user = make.user("organizer", unit=data["units"]["x_codo"])
    login(client, user)
    response = client.post("/reports/tokens", data={"name": "Sở Nội vụ tổng hợp"})
    html = response.get_data(as_text=True)
    secret = re.search(r'id="new-token">([^<]+)<', html).group(1)
    assert response.headers["Cache-Control"] == "no-store"
    fresh()
    token = db.session.scalar(db.select(ApiToken))
    assert token.token_hash == services.hash_token(secret) and secret not in token.token_hash
    assert secret not in client.get("/reports/tokens").get_data(as_text=True)
    assert client.post("/reports/tokens", data={"name": ""}).status_code == 200  # form error, nothing made
    other = make.user("organizer", unit=data["units"]["x_codo"])
    login(client, other)
    assert client.post(f"/reports/tokens/{token.id}/revoke").status_code == 404
    fresh()
    assert db.session.get(ApiToken, token.id).revoked_at is None
    from bdg_training.audit.models import AuditEvent

    assert db.session.scalar(db.select(AuditEvent.action).where(AuditEvent.object_type == "api_tokens")) == "api_token.create"


def test_plans_and_learning_pages(client, make, data):
    login(client, make.user("admin", unit=data["units"]["city"]))
    html = client.get("/reports/plans?year=2026").get_data(as_text=True)
    rows = {
        cells[0].split("KH số")[0].strip(): (attrs, cells)
        for attrs, cells, _ in parse(html).tables["table-plans"]
        if attrs.get("data-plan")
    }
    codo_attrs, codo = rows["xã Cờ Đỏ"]
    assert codo[1:10] == ["4", "2", "1", "10", "1", "3", "4", "60,0%", "75,0%"] and "Chậm tiến độ" in codo[10]
    assert codo_attrs.get("class") == "table-warning"
    assert "28/NQ-CP" in html and "Tỷ lệ cán bộ, công chức xã được tập huấn" in html
    html = client.get("/reports/learning?year=2026").get_data(as_text=True)
    by_sex = [cells for attrs, cells, _ in parse(html).tables["table-learning-sex"] if attrs.get("data-sex")]
    assert by_sex[2] == ["Nữ", "3", "6,33", "9,00", "2,67", "0,73", "Cao"]


def test_pdf_report(client, make, data):
    from pypdf import PdfReader

    data["topics"]["T2"].name = "<b>Phòng</b> & chống"
    db.session.commit()
    login(client, make.user("admin", unit=data["units"]["city"]))
    html = client.get("/reports/?year=2026").get_data(as_text=True)
    assert "<b>Phòng</b>" not in html and "&lt;b&gt;Phòng&lt;/b&gt; &amp; chống" in html  # table and SVG text escaped
    assert ' style="' not in html  # CSP: no inline styles (SVG uses presentation attributes)
    response = client.get("/reports/export.pdf?year=2026")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(BytesIO(response.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "BÁO CÁO THỐNG KÊ TẬP HUẤN BÌNH ĐẲNG GIỚI" in text
    assert "62,5%" in text and "Phòng</b> & chống" in text
    box = reader.pages[0].mediabox
    assert round(float(box.width)) == 595 and round(float(box.height)) == 842  # A4 portrait


def test_bad_period_is_reported_and_the_year_shown(client, make, data):
    login(client, make.user("admin", unit=data["units"]["city"]))
    html = client.get("/reports/?from=31/12/2026&to=01/01/2026").get_data(as_text=True)
    assert "Ngày kết thúc phải sau hoặc trùng ngày bắt đầu." in html
    assert f"Năm {TODAY.year}" in html


def test_dashboard_page_query_count_does_not_grow(client, make, data, count_queries):
    from bdg_training.enrollment.models import Attendance

    login(client, make.user("admin", unit=data["units"]["city"]))
    with count_queries() as few:
        assert client.get("/reports/?year=2026&group=now").status_code == 200
    extra = make.course(
        data["units"]["trung_hung"],
        topic=make.topic("Chủ đề thêm"),
        start_date=date(2026, 4, 6),
        end_date=date(2026, 4, 7),
        status="finished",
    )
    for i in range(15):
        e = make.enrollment(
            extra, make.trainee(f"Người Thêm{i}", sex="nam" if i % 3 else "nu", ethnicity_code="04", commit=False), commit=False
        )
        db.session.add(Attendance(enrollment=e, session=extra.sessions[0], status="present"))
    db.session.commit()
    with count_queries() as many:
        assert client.get("/reports/?year=2026&group=now").status_code == 200
    assert many.count == few.count
    with count_queries() as rows_few:
        client.get("/reports/rows/enrollments?year=2026")
    assert rows_few.count <= 12


def test_zero_split_shows_a_dash(client, make, data):
    login(client, make.user("admin", unit=data["units"]["city"]))
    got = page_figures(client.get("/reports/?year=2026").get_data(as_text=True))
    assert got["target_group"]["Khác"] == (Z, Z, Z)


@pytest.mark.both_dbs
def test_parallel_api_calls_with_one_token_all_succeed(app, make, monkeypatch, backend):
    """Recording last_used_at is a write on a GET: parallel calls queue for the lock, none fails."""
    import threading

    from bdg_training.reports.models import ApiToken

    monkeypatch.setattr(services, "LAST_USED_RESOLUTION", timedelta(0))  # a write on every call
    user = make.user("organizer", unit=make.unit("Cờ Đỏ"))
    token, secret = services.create_token(user, "Song song")
    db.session.commit()
    token_id = token.id
    db.session.close()
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def call():
        client = app.test_client()
        barrier.wait(timeout=30)
        statuses.append(client.get("/api/v1/stats?year=2026", headers={"Authorization": f"Bearer {secret}"}).status_code)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert statuses == [200] * 8
    fresh()
    assert db.session.get(ApiToken, token_id).last_used_at is not None
