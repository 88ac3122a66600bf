"""The assessments blueprint through the test client: what organizers and trainees see and can do."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from sqlalchemy import func, select

from bdg_training.assessments.models import Attempt, AttemptAnswer, EvaluationResponse, EvaluationSubmission, Question, TestForm
from bdg_training.database import utcnow
from bdg_training.extensions import db
from tests.conftest import fresh, login
from tests.integration.test_assessments_services import RESULTS_CLASS, build_item_analysis_class, build_results_class

D = Decimal


@pytest.fixture
def world(make):
    unit = make.unit("Cờ Đỏ", kind="xa")
    organizer = make.user("organizer", unit=unit)
    topic = make.topic("Luật Bình đẳng giới")
    course = make.course(unit, topic=topic, status="running", code="CĐ-2026-01")
    return {"unit": unit, "organizer": organizer, "topic": topic, "course": course}


def trainee_login(make, course, name="Thạch Thị Sa Rươl", sex="nu", status="confirmed"):
    user = make.user("trainee")
    trainee = make.trainee(name, sex=sex, user=user)
    enrollment = make.enrollment(course, trainee, status=status, **({"waitlist_position": 1} if status == "waitlisted" else {}))
    return user, enrollment


def three_questions(make, world, **form_values):
    qs = [
        make.question(
            "Luật Bình đẳng giới được Quốc hội thông qua năm nào?", topic=world["topic"], options=["2004", "2006", "2010"], key=(1,)
        ),
        make.question("Giới tính chỉ đặc điểm sinh học của nam và nữ.", topic=world["topic"], kind="true_false", key=(0,)),
        make.question(
            "Những hành vi nào là bạo lực gia đình?",
            topic=world["topic"],
            kind="multiple",
            options=["Đánh đập", "Lăng mạ", "Chia sẻ việc nhà"],
            key=(0, 1),
        ),
    ]
    form = make.test_form(world["course"], "pre", qs, **form_values)
    return form, qs


def _text(response) -> str:
    return response.get_data(as_text=True)


# ------------------------------------------------------------------------------------------- trainee: taking a test


def test_trainee_takes_a_test_on_a_phone_answers_survive_a_reload(client, make, world):
    form, (q1, q2, q3) = three_questions(make, world, time_limit_minutes=20)
    user, enrollment = trainee_login(make, world["course"])
    login(client, user)
    url = f"/assessments/me/courses/{world['course'].id}/pre"
    page = _text(client.get(url))
    assert "Bắt đầu làm bài" in page and "3 câu hỏi" in page and "20 phút" in page
    assert client.post(url + "/start").status_code == 302
    page = _text(client.get(url))
    assert 'name="viewport"' in page and "choice-label" in page and "btn-touch" in page  # stacked, large targets
    assert "style=" not in page
    assert "Đáp án đúng" not in page

    response = client.post(
        url + "/answers", data={f"q-{q1.id}": str(q1.options[1].id), f"q-{q3.id}": [str(q3.options[0].id)], "action": "save"}
    )
    assert response.status_code == 302
    page = _text(client.get(url))  # a reload shows what was saved
    assert re.search(rf'value="{q1.options[1].id}" checked', page)
    assert re.search(rf'value="{q3.options[0].id}" checked', page)
    assert not re.search(rf'value="{q3.options[1].id}" checked', page)
    assert "2/3 câu đã lưu" in page

    response = client.post(
        url + "/answers",
        data={
            f"q-{q1.id}": str(q1.options[1].id),
            f"q-{q2.id}": str(q2.options[0].id),
            f"q-{q3.id}": [str(q3.options[0].id), str(q3.options[1].id)],
            "action": "submit",
        },
        follow_redirects=True,
    )
    assert "Đã nộp bài. Điểm của bạn: 10,00/10." in _text(response)
    fresh()
    attempt = db.session.scalar(select(Attempt))
    assert (attempt.status, attempt.score, attempt.source) == ("completed", D("10.00"), "online")


def test_shuffled_order_is_stable_across_reloads(client, make, world):
    questions = [make.question(f"Câu số {i}?", topic=world["topic"]) for i in range(1, 9)]
    make.test_form(world["course"], "pre", questions, shuffle_questions=True, shuffle_options=True)
    user, _ = trainee_login(make, world["course"])
    login(client, user)
    url = f"/assessments/me/courses/{world['course'].id}/pre"
    client.post(url + "/start")
    orders = [re.findall(r"Câu số (\d)\?", _text(client.get(url))) for _ in range(3)]
    assert orders[0] == orders[1] == orders[2] and sorted(orders[0]) == [str(i) for i in range(1, 9)]


def test_a_second_start_is_refused(client, make, world):
    three_questions(make, world)
    user, _ = trainee_login(make, world["course"])
    login(client, user)
    url = f"/assessments/me/courses/{world['course'].id}/pre"
    client.post(url + "/start")
    response = client.post(url + "/start", follow_redirects=True)
    assert "mỗi người chỉ làm một lần" in _text(response)
    fresh()
    assert db.session.scalar(select(func.count(Attempt.id))) == 1


@pytest.mark.both_dbs
def test_two_parallel_starts_make_one_attempt(app, make, world):
    three_questions(make, world)
    user, enrollment = trainee_login(make, world["course"])
    db.session.commit()
    url = f"/assessments/me/courses/{world['course'].id}/pre/start"
    clients = [app.test_client() for _ in range(2)]
    for c in clients:
        login(c, user)
    barrier = threading.Barrier(2)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def start(c):
        try:
            barrier.wait(timeout=10)
            statuses.append(c.post(url).status_code)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and statuses == [302, 302]
    fresh()
    assert db.session.scalar(select(func.count(Attempt.id)).where(Attempt.enrollment_id == enrollment.id)) == 1


def test_an_answer_after_the_deadline_is_refused(client, make, world):
    form, (q1, q2, q3) = three_questions(make, world, time_limit_minutes=5)
    user, _ = trainee_login(make, world["course"])
    login(client, user)
    url = f"/assessments/me/courses/{world['course'].id}/pre"
    client.post(url + "/start")
    client.post(url + "/answers", data={f"q-{q1.id}": str(q1.options[1].id), "action": "save"})  # right, saved in time
    fresh()
    attempt = db.session.scalar(select(Attempt))
    attempt.deadline = utcnow() - timedelta(minutes=1)  # time is up
    db.session.commit()
    response = client.post(
        url + "/answers",
        data={
            f"q-{q1.id}": str(q1.options[1].id),
            f"q-{q2.id}": str(q2.options[0].id),
            f"q-{q3.id}": [str(q3.options[0].id), str(q3.options[1].id)],
            "action": "submit",
        },
        follow_redirects=True,
    )
    assert "câu trả lời vừa gửi không được nhận" in _text(response)
    fresh()
    attempt = db.session.scalar(select(Attempt))
    assert attempt.status == "completed" and attempt.closed_by_deadline
    assert attempt.score == D("3.33")  # only the answer saved before the deadline: 1/3
    assert db.session.scalar(select(func.count(AttemptAnswer.id))) == 1


def test_an_attempt_past_its_limit_is_closed_when_the_page_is_opened(client, make, world):
    form, (q1, *_rest) = three_questions(make, world, time_limit_minutes=5)
    user, _ = trainee_login(make, world["course"])
    login(client, user)
    url = f"/assessments/me/courses/{world['course'].id}/pre"
    client.post(url + "/start")
    client.post(url + "/answers", data={f"q-{q1.id}": str(q1.options[1].id), "action": "save"})
    fresh()
    db.session.scalar(select(Attempt)).deadline = utcnow() - timedelta(minutes=2)
    db.session.commit()
    page = _text(client.get(url))
    assert "Đã hết giờ làm bài" in page and "3,33" in page and "tự thu khi hết giờ" in page
    fresh()
    assert db.session.scalar(select(Attempt.status)) == "completed"


def test_the_key_is_hidden_until_the_window_closes(client, make, world):
    form, (q1, q2, q3) = three_questions(make, world)
    user, _ = trainee_login(make, world["course"])
    login(client, user)
    url = f"/assessments/me/courses/{world['course'].id}/pre"
    client.post(url + "/start")
    client.post(url + "/answers", data={f"q-{q1.id}": str(q1.options[0].id), f"q-{q2.id}": str(q2.options[0].id), "action": "submit"})
    page = _text(client.get(url))
    assert "3,33" in page  # own score shown
    assert "Đáp án đúng" not in page and "Bạn chọn" not in page and "sẽ hiện ở đây sau khi bài kiểm tra đóng" in page
    assert "2006" not in page  # no question text or option either before the close

    organizer_client = client.application.test_client()
    login(organizer_client, world["organizer"])
    assert organizer_client.post(f"/assessments/courses/{world['course'].id}/forms/pre/close").status_code == 302
    page = _text(client.get(url))
    assert "Đáp án đúng" in page and "2 câu chưa đúng" in page
    assert "Bạn chọn" in page and "Chưa trả lời" in page  # q1 wrong choice, q3 left blank


def test_the_pre_test_key_stays_hidden_while_a_post_test_reusing_it_is_open(client, make, world):
    form, (q1, q2, q3) = three_questions(make, world)
    post = make.test_form(world["course"], "post", [], same_as_pre=True)
    user, _ = trainee_login(make, world["course"])
    login(client, user)
    url = f"/assessments/me/courses/{world['course'].id}/pre"
    client.post(url + "/start")
    client.post(url + "/answers", data={f"q-{q1.id}": str(q1.options[1].id), "action": "submit"})
    fresh()
    form = db.session.get(TestForm, form.id)
    form.closes_at = utcnow() - timedelta(minutes=1)  # the pre-test has closed…
    post = db.session.get(TestForm, post.id)
    post.closes_at = utcnow() + timedelta(days=2)  # …but the post-test with the same questions has not
    db.session.commit()
    page = _text(client.get(url))
    assert "Đáp án đúng" not in page and "2006" not in page
    post = db.session.get(TestForm, post.id)
    post.opens_at, post.closes_at = utcnow() - timedelta(days=1), utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert "Đáp án đúng" in _text(client.get(url))


def test_a_trainee_of_another_course_cannot_open_the_test(client, make, world):
    three_questions(make, world)
    other_course = make.course(world["unit"], topic=world["topic"], status="running")
    user, _ = trainee_login(make, other_course)
    login(client, user)
    base = f"/assessments/me/courses/{world['course'].id}"
    assert client.get(base + "/pre").status_code == 404
    assert client.post(base + "/pre/start").status_code == 404
    assert client.post(base + "/pre/answers", data={"action": "submit"}).status_code == 404
    assert client.get(base + "/evaluation").status_code == 404
    fresh()
    assert db.session.scalar(select(func.count(Attempt.id))) == 0


@pytest.mark.parametrize("status", ["pending", "waitlisted", "withdrawn"])
def test_only_a_confirmed_enrolment_opens_the_test(client, make, world, status):
    three_questions(make, world)
    user, _ = trainee_login(make, world["course"], status=status)
    login(client, user)
    assert client.get(f"/assessments/me/courses/{world['course'].id}/pre").status_code == 404


def test_trainee_reaches_no_organizer_page(client, make, world):
    three_questions(make, world)
    user, _ = trainee_login(make, world["course"])
    login(client, user)
    cid = world["course"].id
    for url in (
        "/assessments/questions",
        f"/assessments/courses/{cid}",
        f"/assessments/courses/{cid}/results",
        f"/assessments/courses/{cid}/results.xlsx",
        f"/assessments/courses/{cid}/paper",
        f"/assessments/courses/{cid}/forms/pre",
        f"/assessments/courses/{cid}/forms/pre/print?key=1",
        f"/assessments/courses/{cid}/evaluation/results",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/assessments/courses/{cid}/forms/pre/close").status_code == 403


def test_trainee_list_shows_own_tests(client, make, world):
    three_questions(make, world)
    user, enrollment = trainee_login(make, world["course"])
    make.paper_score(enrollment, "post", "8,5".replace(",", "."))
    login(client, user)
    page = _text(client.get("/assessments/me"))
    assert world["course"].title in page and "Vào bài" in page and "8,50/10" in page
    assert "Kiểm tra &amp; đánh giá" in page  # the menu entry


# ------------------------------------------------------------------------------------------- organizer: bank, forms


def test_organizer_adds_a_question_and_a_used_edit_makes_a_version(client, make, world):
    login(client, world["organizer"])
    response = client.post(
        "/assessments/questions/new",
        data={
            "topic_id": world["topic"].id,
            "kind": "single",
            "text": "Tháng hành động vì bình đẳng giới diễn ra khi nào?",
            "option_0": "15/11 – 15/12",
            "correct_0": "y",
            "option_1": "1/3 – 31/3",
            "points": "1",
        },
    )
    assert response.status_code == 302
    fresh()
    q = db.session.scalar(select(Question))
    assert q.key_letters == "A" and q.root_id == q.id
    # two correct options on a single-answer question: refused, nothing saved
    response = client.post(
        "/assessments/questions/new",
        data={
            "topic_id": world["topic"].id,
            "kind": "single",
            "text": "Sai?",
            "option_0": "a",
            "correct_0": "y",
            "option_1": "b",
            "correct_1": "y",
            "points": "1",
        },
    )
    assert response.status_code == 200 and "đúng một đáp án đúng" in _text(response)
    fresh()
    assert db.session.scalar(select(func.count(Question.id))) == 1

    enrollment = make.enrollment(world["course"])
    form = make.test_form(world["course"], "pre", [q])
    db.session.add(
        Attempt(
            enrollment=enrollment, kind="pre", form=form, source="online", status="in_progress", question_ids=[q.id], started_at=utcnow()
        )
    )
    db.session.commit()
    page = _text(client.get(f"/assessments/questions/{q.id}/edit"))
    assert "phiên bản 2" in page
    response = client.post(
        f"/assessments/questions/{q.id}/edit",
        data={
            "topic_id": world["topic"].id,
            "kind": "single",
            "text": "Tháng hành động vì bình đẳng giới hằng năm diễn ra khi nào?",
            "option_0": "15/11 – 15/12",
            "correct_0": "y",
            "option_1": "1/3 – 31/3",
            "points": "1",
        },
    )
    assert response.status_code == 302
    fresh()
    versions = db.session.scalars(select(Question).order_by(Question.version)).all()
    assert [(v.version, v.status) for v in versions] == [(1, "superseded"), (2, "active")]
    assert "Các phiên bản" in _text(client.get(response.headers["Location"]))


def test_questions_of_another_unit_are_read_only(client, make, world):
    other = make.unit("Vĩnh Thạnh", kind="xa")
    q = make.question(topic=world["topic"], unit=other)
    login(client, world["organizer"])
    assert client.get(f"/assessments/questions/{q.id}").status_code == 200
    assert client.get(f"/assessments/questions/{q.id}/edit").status_code == 403
    assert client.post(f"/assessments/questions/{q.id}/retire", data={"retired": "1"}).status_code == 403


def test_organizer_builds_pre_and_post_forms(client, make, world):
    qs = [make.question(f"Câu {i}?", topic=world["topic"], unit=world["unit"]) for i in range(1, 4)]
    login(client, world["organizer"])
    cid = world["course"].id
    page = _text(client.get(f"/assessments/courses/{cid}/forms/pre"))
    assert all(f"Câu {i}?" in page for i in range(1, 4))
    response = client.post(
        f"/assessments/courses/{cid}/forms/pre",
        data={
            "question_ids": [qs[0].id, qs[2].id],
            f"order-{qs[2].id}": "1",
            f"order-{qs[0].id}": "2",
            "time_limit_minutes": "15",
            "opens_at": "07/12/2026 07:30",
            "closes_at": "07/12/2026 11:00",
            "shuffle_questions": "y",
        },
    )
    assert response.status_code == 302
    fresh()
    pre = db.session.scalar(select(TestForm).where(TestForm.kind == "pre"))
    assert [i.question_id for i in pre.items] == [qs[2].id, qs[0].id]
    assert pre.opens_at.strftime("%H:%M") == "00:30" and pre.time_limit_minutes == 15  # 07:30 in Cần Thơ is 00:30 UTC
    response = client.post(f"/assessments/courses/{cid}/forms/post", data={"same_as_pre": "y"})
    assert response.status_code == 302
    overview = _text(client.get(f"/assessments/courses/{cid}"))
    assert "Dùng lại đề đầu vào" in overview and "2 câu hỏi" in overview
    bad = client.post(f"/assessments/courses/{cid}/forms/pre", data={"question_ids": [qs[0].id], "opens_at": "32/12/2026 07:30"})
    assert bad.status_code == 200 and "không hợp lệ" in _text(bad)
    printed = _text(client.get(f"/assessments/courses/{cid}/forms/pre/print"))
    assert "Câu 3?" in printed and "Họ và tên" in printed
    assert "ĐÁP ÁN" in _text(client.get(f"/assessments/courses/{cid}/forms/pre/print?key=1"))


def test_course_pages_of_another_unit_are_not_found(client, make, world):
    outsider = make.user("organizer", unit=make.unit("Vĩnh Thạnh", kind="xa"))
    login(client, outsider)
    cid = world["course"].id
    for url in (
        f"/assessments/courses/{cid}",
        f"/assessments/courses/{cid}/results",
        f"/assessments/courses/{cid}/paper",
        f"/assessments/courses/{cid}/forms/pre",
        f"/assessments/courses/{cid}/evaluation",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/assessments/courses/{cid}/paper", data={}).status_code == 404


# ------------------------------------------------------------------------------------------- paper grid


def test_paper_grid_with_bad_values_saves_nothing(client, make, world):
    a = make.enrollment(world["course"], make.trainee("Lê Văn An", sex="nam"))
    b = make.enrollment(world["course"], make.trainee("Trần Thị Bình"))
    login(client, world["organizer"])
    url = f"/assessments/courses/{world['course'].id}/paper"
    page = _text(client.get(url))
    assert f'name="pre-{a.id}"' in page and f'name="post-{b.id}"' in page
    response = client.post(url, data={f"pre-{a.id}": "7,5", f"post-{a.id}": "8.5", f"pre-{b.id}": "10,5", f"post-{b.id}": "x"})
    page = _text(response)
    assert response.status_code == 200 and "Chưa lưu điểm nào" in page
    assert "Trần Thị Bình (đầu vào): Điểm «10,5» lớn hơn 10" in page
    assert 'value="7,5"' in page  # what was typed is kept for correction
    fresh()
    assert db.session.scalar(select(func.count(Attempt.id))) == 0

    response = client.post(
        url, data={f"pre-{a.id}": "7,5", f"post-{a.id}": "8.5", f"pre-{b.id}": "", f"post-{b.id}": "10"}, follow_redirects=True
    )
    assert "2 điểm mới" not in _text(response) and "3 điểm mới" in _text(response)
    fresh()
    assert {(x.enrollment_id, x.kind): x.score for x in db.session.scalars(select(Attempt))} == {
        (a.id, "pre"): D("7.5"),
        (a.id, "post"): D("8.5"),
        (b.id, "post"): D("10"),
    }
    assert 'value="8,50"' in _text(client.get(url))


# ------------------------------------------------------------------------------------------- results


def _row(page: str, group: str) -> dict[str, str]:
    chunk = re.search(rf'<tr data-group="{group}".*?</tr>', page, re.S).group(0)
    return {m[0]: re.sub(r"<[^>]+>", " ", m[1]).split()[0] for m in re.findall(r'data-field="(\w+)"[^>]*>(.*?)</td>', chunk, re.S)}


def test_results_page_by_sex_equals_a_hand_calculation(client, make, world):
    build_results_class(make, world["course"])
    db.session.commit()
    login(client, world["organizer"])
    page = _text(client.get(f"/assessments/courses/{world['course'].id}/results"))
    # Hand calculation: see tests/integration/test_assessments_services.py::RESULTS_CLASS.
    assert _row(page, "nam") == {
        "n": "2",
        "mean_pre": "5,00",
        "mean_post": "6,00",
        "mean_gain": "1,00",
        "relative": "20%",
        "class_g": "0,20",
        "mean_g": "0,13",
        "band": "Thấp",
        "pass_rate": "100%",
    }
    assert _row(page, "nu") == {
        "n": "3",
        "mean_pre": "6,50",
        "mean_post": "8,83",
        "mean_gain": "2,33",
        "relative": "35,9%",
        "class_g": "0,67",
        "mean_g": "0,78",
        "band": "Trung",
        "pass_rate": "75%",
    }
    assert _row(page, "total") == {
        "n": "5",
        "mean_pre": "5,90",
        "mean_post": "7,70",
        "mean_gain": "1,80",
        "relative": "30,51%",
        "class_g": "0,44",
        "mean_g": "0,45",
        "band": "Trung",
        "pass_rate": "83,33%",
    }
    assert "⟨g⟩ từ điểm trung bình lớp" in page and "Trung bình g cá nhân" in page
    assert "3/4" in page and "5/6" in page  # passed / post-test takers
    assert "Người Đã Rút" not in page
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    assert "style=" not in svg and 'fill="#0072B2"' in svg and "Đầu vào — 9–10: 1" in svg
    trainees = re.search(r'<table[^>]*id="trainees".*?</table>', page, re.S).group(0)
    for name, _sex, _pre, _post in RESULTS_CLASS:
        assert name in trainees
    assert "-0,25" in trainees and "Chưa đạt" in trainees


def test_item_analysis_page_shows_the_hand_calculation(client, make, world):
    qs, _ = build_item_analysis_class(make, world)
    login(client, world["organizer"])
    page = _text(client.get(f"/assessments/courses/{world['course'].id}/results"))
    table = re.search(r'<table[^>]*id="items-pre".*?</table>', page, re.S).group(0)

    def cells(q):
        row = re.search(rf'<tr data-question="{q.id}">.*?</tr>', table, re.S).group(0)
        return {m[0]: " ".join(re.sub(r"<[^>]+>", " ", m[1]).split()) for m in re.findall(r'data-field="(\w+)"[^>]*>(.*?)</td>', row, re.S)}

    # See test_item_analysis_of_a_small_class_by_hand for the working.
    assert cells(qs[0]) == {"facility": "83,33%", "discrimination": "0,00", "options": "A✓: 5 B: 1 C: 0", "flags": "Phân biệt kém"}
    assert cells(qs[1]) == {"facility": "50%", "discrimination": "1,00", "options": "A: 1 B✓: 3 C: 1 bỏ trống: 1", "flags": ""}
    assert cells(qs[2])["options"] == "A✓: 4 B: 1 C✓: 4 bỏ trống: 1"
    assert cells(qs[4]) == {"facility": "50%", "discrimination": "-0,50", "options": "A: 3 B✓: 3", "flags": "Phân biệt ngược"}
    assert cells(qs[5]) == {"facility": "0%", "discrimination": "0,00", "options": "A: 6 B: 0 C✓: 0", "flags": "Quá khó Phân biệt kém"}
    assert "(6 bài trực tuyến)" in page


def test_results_query_count_does_not_grow_with_the_class(client, make, world, count_queries):
    form, qs = three_questions(make, world)
    login(client, world["organizer"])
    url = f"/assessments/courses/{world['course'].id}/results"

    def add_people(n):
        from bdg_training.assessments import services

        for i in range(n):
            e = make.enrollment(world["course"], make.trainee(sex="nam" if i % 2 else "nu"))
            attempt, _ = services.start_attempt(None, e, "pre", utcnow())
            services.save_answers(None, attempt, {q.id: [q.options[i % 2].id] for q in qs}, utcnow(), submit=True)
            make.paper_score(e, "post", 5 + i % 5)
        db.session.commit()

    add_people(3)
    with count_queries() as few:
        assert client.get(url).status_code == 200
    add_people(12)
    with count_queries() as many:
        assert client.get(url).status_code == 200
    assert many.count == few.count


def test_results_export_is_an_xlsx_with_numbers(client, make, world):
    from openpyxl import load_workbook

    build_results_class(make, world["course"])
    db.session.commit()
    login(client, world["organizer"])
    response = client.get(f"/assessments/courses/{world['course'].id}/results.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert "ket-qua-kiem-tra-" in response.headers["Content-Disposition"]
    sheet = load_workbook(BytesIO(response.data))["Kết quả"]
    values = {row[1]: row for row in sheet.iter_rows(min_row=4, values_only=True)}
    assert values["Huỳnh Thị Giang"][5] == 7.5 and values["Huỳnh Thị Giang"][10] == 0.8


def test_signer_reads_results_but_cannot_enter_scores(client, make, world):
    signer = make.user("signer", unit=world["unit"])
    login(client, signer)
    cid = world["course"].id
    assert client.get(f"/assessments/courses/{cid}/results").status_code == 200
    assert client.get(f"/assessments/courses/{cid}/paper").status_code == 403


# ------------------------------------------------------------------------------------------- evaluation


def test_course_evaluation_is_answered_once_and_anonymously(client, make, world):
    login(client, world["organizer"])
    cid = world["course"].id
    response = client.post(
        f"/assessments/courses/{cid}/evaluation", data={"items": ["content", "trainer", "usefulness"], "allow_comment": "y", "is_open": "y"}
    )
    assert response.status_code == 302
    fresh()
    people = [trainee_login(make, world["course"], name=f"Học Viên Đánh Giá{i}")[0] for i in range(3)]
    ratings = [("5", "4", "5"), ("4", "4", "3"), ("3", "5", "4")]
    for user, (c, t, u) in zip(people, ratings, strict=True):
        trainee_client = client.application.test_client()
        login(trainee_client, user)
        page = _text(trainee_client.get(f"/assessments/me/courses/{cid}/evaluation"))
        assert "ẩn danh" in page and "Giảng viên" in page
        incomplete = trainee_client.post(f"/assessments/me/courses/{cid}/evaluation", data={"rating-content": c})
        assert incomplete.status_code == 200 and "Vui lòng chọn một mức đánh giá" in _text(incomplete)
        done = trainee_client.post(
            f"/assessments/me/courses/{cid}/evaluation",
            data={"rating-content": c, "rating-trainer": t, "rating-usefulness": u, "comment": f"Ý kiến {c}{t}{u}"},
        )
        assert done.status_code == 302
        again = trainee_client.post(
            f"/assessments/me/courses/{cid}/evaluation", data={"rating-content": "1", "rating-trainer": "1", "rating-usefulness": "1"}
        )
        assert "Bạn đã gửi phiếu đánh giá" in _text(again)
    fresh()
    assert db.session.scalar(select(func.count(EvaluationResponse.id))) == 3
    assert db.session.scalar(select(func.count(EvaluationSubmission.id))) == 3
    page = _text(client.get(f"/assessments/courses/{cid}/evaluation/results"))
    row = re.search(r'<tr data-item="content">.*?</tr>', page, re.S).group(0)
    assert 'data-field="mean">4,00<' in row  # (5 + 4 + 3) / 3
    assert re.search(r'data-field="r5">1<', row) and re.search(r'data-field="r1">0<', row)
    assert "Ý kiến 545" in page and "3 phiếu / 3 học viên" in page


def test_evaluation_results_stay_hidden_below_three_responses(client, make, world):
    from bdg_training.assessments import services

    form = services.save_evaluation_form(world["organizer"], world["course"], item_keys=["content"], allow_comment=True, is_open=True)
    services.submit_evaluation(None, make.enrollment(world["course"]), form, {"content": "2"}, "Tên tôi là Lan")
    db.session.commit()
    login(client, world["organizer"])
    page = _text(client.get(f"/assessments/courses/{world['course'].id}/evaluation/results"))
    assert "Cần ít nhất 3 phiếu" in page and "Tên tôi là Lan" not in page


# ------------------------------------------------------------------------------------------- import


def _xlsx(rows) -> BytesIO:
    from openpyxl import Workbook

    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    out = BytesIO()
    wb.save(out)
    out.seek(0)
    return out


HEADER = [
    "STT",
    "Chủ đề",
    "Loại câu hỏi",
    "Câu hỏi",
    "Phương án A",
    "Phương án B",
    "Phương án C",
    "Phương án D",
    "Đáp án đúng",
    "Điểm",
    "Giải thích",
]


def test_question_import_is_all_or_nothing(client, make, world):
    make.question("Câu đã có trong ngân hàng?", topic=world["topic"])
    login(client, world["organizer"])
    good = [
        [
            1,
            "Luật Bình đẳng giới",
            "Một đáp án",
            "Luật BĐG có hiệu lực từ ngày nào?",
            "01/7/2007",
            "29/11/2006",
            None,
            None,
            "A",
            1,
            "Điều 44",
        ],
        [
            2,
            "luat binh dang gioi",
            "Nhiều đáp án",
            "Lĩnh vực nào được Luật quy định?",
            "Chính trị",
            "Kinh tế",
            "Gia đình",
            None,
            "A, B, C",
            1,
            None,
        ],
        [3, None, "Đúng/Sai", "Giới tính chỉ đặc điểm sinh học.", None, None, None, None, "Đúng", "0,5", None],
        [4, "Luật Bình đẳng giới", None, "Câu đã có trong ngân hàng?", "x", "y", None, None, "B", None, None],
    ]
    bad = [
        *good,
        [5, "Chủ đề lạ", "Một đáp án", "Câu lỗi?", "a", None, "c", None, "E", "abc", None],
        [6, "Luật Bình đẳng giới", None, "Luật BĐG có hiệu lực từ ngày nào?", "a", "b", None, None, "A", 1, None],
    ]
    response = client.post(
        "/assessments/questions/import",
        data={"file": (_xlsx([HEADER, *bad]), "cau-hoi.xlsx"), "default_topic": world["topic"].id},
        content_type="multipart/form-data",
    )
    page = _text(response)
    assert response.status_code == 200 and "2 dòng lỗi" in page and "chưa có câu hỏi nào được lưu" in page
    assert "Chủ đề lạ" in page and "Phương án B để trống" in page and "Trùng với câu hỏi ở dòng 2" in page
    fresh()
    assert db.session.scalar(select(func.count(Question.id))) == 1

    response = client.post(
        "/assessments/questions/import",
        data={"file": (_xlsx([HEADER, *good]), "cau-hoi.xlsx"), "default_topic": world["topic"].id},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Đã nhập 3 câu hỏi. Bỏ qua 1 câu đã có trong ngân hàng." in _text(response)
    fresh()
    imported = {q.text: q for q in db.session.scalars(select(Question))}
    assert imported["Lĩnh vực nào được Luật quy định?"].key_letters == "A, B, C"
    tf = imported["Giới tính chỉ đặc điểm sinh học."]
    assert (tf.kind, tf.points, [o.text for o in tf.options], tf.key_letters) == ("true_false", D("0.50"), ["Đúng", "Sai"], "A")
    assert imported["Luật BĐG có hiệu lực từ ngày nào?"].explanation == "Điều 44"


def test_import_template_downloads_and_imports(client, world):
    login(client, world["organizer"])
    template = client.get("/assessments/questions/import-template.xlsx")
    assert template.status_code == 200
    response = client.post(
        "/assessments/questions/import",
        data={"file": (BytesIO(template.data), "mau.xlsx"), "default_topic": world["topic"].id},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Đã nhập 3 câu hỏi." in _text(response)


def test_import_refuses_a_non_xlsx_file(client, world):
    login(client, world["organizer"])
    response = client.post(
        "/assessments/questions/import", data={"file": (BytesIO(b"not a zip"), "x.xlsx")}, content_type="multipart/form-data"
    )
    assert response.status_code == 200 and "không phải bảng tính Excel" in _text(response)


def test_bank_list_searches_and_paginates(client, make, world, app):
    for i in range(app.config["PER_PAGE"] + 2):
        make.question(f"Câu hỏi về định kiến giới số {i}", topic=world["topic"], commit=False)
    make.question("Bạo lực gia đình là gì?", topic=world["topic"])
    login(client, world["organizer"])
    page = _text(client.get("/assessments/questions?q=bao+luc"))
    assert "Bạo lực gia đình là gì?" in page and "định kiến" not in page
    assert "Trang 1/2" in _text(client.get("/assessments/questions"))


def test_course_detail_links_to_the_assessments(client, world):
    login(client, world["organizer"])
    page = _text(client.get(f"/courses/{world['course'].id}"))
    cid = world["course"].id
    for url in (
        f"/assessments/courses/{cid}",
        f"/assessments/courses/{cid}/paper",
        f"/assessments/courses/{cid}/results",
        f"/assessments/courses/{cid}/evaluation",
    ):
        assert f'href="{url}"' in page


def test_forms_carry_their_csrf_token(client, make, world, csrf_on):
    from tests.conftest import csrf_token

    form, (q1, *_rest) = three_questions(make, world)
    user, enrollment = trainee_login(make, world["course"])
    login(client, user)
    url = f"/assessments/me/courses/{world['course'].id}/pre"
    assert client.post(url + "/start", data={"csrf_token": csrf_token(client, url)}).status_code == 302
    token = csrf_token(client, url)
    assert (
        client.post(url + "/answers", data={"csrf_token": token, f"q-{q1.id}": str(q1.options[1].id), "action": "submit"}).status_code
        == 302
    )
    organizer = client.application.test_client()
    login(organizer, world["organizer"])
    grid = f"/assessments/courses/{world['course'].id}/paper"
    assert organizer.post(grid, data={"csrf_token": csrf_token(organizer, grid), f"post-{enrollment.id}": "9"}).status_code == 302
    fresh()
    assert {a.kind: a.score for a in db.session.scalars(select(Attempt))} == {"pre": D("3.33"), "post": D("9.00")}  # 1 of 3 right


def test_pages_have_no_inline_style_or_script(client, make, world):
    build_item_analysis_class(make, world)
    make.test_form(world["course"], "post", [], same_as_pre=True)
    q = make.question(topic=world["topic"], unit=world["unit"])
    from bdg_training.assessments import services

    services.save_evaluation_form(world["organizer"], world["course"], item_keys=["content"], allow_comment=True, is_open=True)
    db.session.commit()
    login(client, world["organizer"])
    cid = world["course"].id
    pages = [
        "/assessments/questions",
        "/assessments/questions/new",
        f"/assessments/questions/{q.id}",
        f"/assessments/questions/{q.id}/edit",
        "/assessments/questions/import",
        f"/assessments/courses/{cid}",
        f"/assessments/courses/{cid}/forms/pre",
        f"/assessments/courses/{cid}/forms/post",
        f"/assessments/courses/{cid}/forms/pre/print",
        f"/assessments/courses/{cid}/paper",
        f"/assessments/courses/{cid}/results",
        f"/assessments/courses/{cid}/evaluation",
        f"/assessments/courses/{cid}/evaluation/results",
    ]
    for url in pages:
        response = client.get(url)
        page = _text(response)
        assert response.status_code == 200, url
        assert "style=" not in page, url
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), url
    user, _ = trainee_login(make, world["course"], name="Người Xem Trang")
    login(client, user)
    for url in (
        "/assessments/me",
        f"/assessments/me/courses/{cid}/pre",
        f"/assessments/me/courses/{cid}/post",
        f"/assessments/me/courses/{cid}/evaluation",
    ):
        response = client.get(url)
        assert response.status_code == 200 and "style=" not in _text(response), url


@pytest.mark.parametrize("url", ["/assessments/questions", "/assessments/courses/{cid}/paper", "/assessments/me"])
def test_list_pages_query_count_does_not_grow(client, make, world, count_queries, url):
    user, _ = trainee_login(make, world["course"], name="Người Đếm Truy Vấn")
    viewer = user if url.startswith("/assessments/me") else world["organizer"]
    login(client, viewer)
    target = url.format(cid=world["course"].id)

    def grow(n):
        for _ in range(n):
            make.question(topic=world["topic"], unit=world["unit"], commit=False)
            e = make.enrollment(world["course"], make.trainee(commit=False), commit=False)
            make.paper_score(e, "pre", 6, commit=False)
            other = make.course(world["unit"], topic=world["topic"], status="finished", commit=False)
            mine = make.enrollment(other, user.trainee, commit=False)
            make.test_form(other, "pre", [], commit=False)
            make.paper_score(mine, "post", 7, commit=False)
        db.session.commit()

    grow(2)
    with count_queries() as few:
        assert client.get(target).status_code == 200
    grow(8)
    with count_queries() as many:
        assert client.get(target).status_code == 200
    assert many.count == few.count


def test_a_form_in_use_keeps_its_questions_but_its_window_can_move(client, make, world):
    form, qs = three_questions(make, world, time_limit_minutes=10)
    post = make.test_form(world["course"], "post", [], same_as_pre=True)
    _, enrollment = trainee_login(make, world["course"])
    make.paper_score(enrollment, "post", 6).form_id = post.id  # the post-test (reusing the pre-test's questions) is in use
    db.session.commit()
    login(client, world["organizer"])
    cid = world["course"].id
    page = _text(client.get(f"/assessments/courses/{cid}/forms/pre"))
    assert "không đổi được câu hỏi" in page and '<fieldset class="mt-3" disabled>' in page
    response = client.post(f"/assessments/courses/{cid}/forms/pre", data={"time_limit_minutes": "25", "closes_at": "31/12/2026 17:00"})
    assert response.status_code == 302
    response = client.post(f"/assessments/courses/{cid}/forms/post", data={"closes_at": "31/12/2026 17:00"})
    assert response.status_code == 302
    fresh()
    form, post = db.session.get(TestForm, form.id), db.session.get(TestForm, post.id)
    assert form.time_limit_minutes == 25 and [i.question_id for i in form.items] == [q.id for q in qs]
    assert post.same_as_pre and post.closes_at is not None
