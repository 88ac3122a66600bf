"""Demo data for assessments (idempotent): a bank of gender-equality questions in Vietnamese, pre/post
tests for the demo courses, plausible results, and course evaluations.

Results are generated with a fixed random seed so every run gives the same figures: most post-tests are
higher than the pre-tests, a few are lower, a few people missed one of the two tests. The finished course
of xã Cờ Đỏ was tested online (so its item analysis has data); the others on paper, or online then on
paper. Sources of the questions: Luật Bình đẳng giới 2006 (Điều 5), Nghị quyết 28/NQ-CP, Quyết định
1790/QĐ-TTg, Luật Phòng, chống bạo lực gia đình 2022, Nghị định 25/2025/NĐ-CP (DOMAIN.md §1).
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from bdg_training.assessments import rules
from bdg_training.assessments.models import (
    Attempt,
    AttemptAnswer,
    EvaluationForm,
    EvaluationResponse,
    EvaluationSubmission,
    Option,
    Question,
    TestForm,
    TestFormItem,
)
from bdg_training.courses.models import Course, Topic
from bdg_training.courses.services import local_to_utc
from bdg_training.enrollment.models import Enrollment
from bdg_training.extensions import db

SEED = 20061129  # the day the Law on Gender Equality was passed

# Topic names of bdg_training.courses.demo.TOPICS, by short key.
TOPIC_LAW = "Luật Bình đẳng giới và kỹ năng lồng ghép giới"
TOPIC_GBV = "Phòng ngừa và ứng phó với bạo lực trên cơ sở giới"
TOPIC_FAMILY = "Công tác gia đình"
TOPIC_DV = "Phòng, chống bạo lực gia đình"

# (key, topic, kind, text, options, correct option indexes, explanation, difficulty: share expected right before training)
QUESTIONS: list[tuple[str, str, str, str, list[str], tuple[int, ...], str, float]] = [
    ("law_passed", TOPIC_LAW, "single", "Luật Bình đẳng giới (Luật số 73/2006/QH11) được Quốc hội thông qua ngày nào?",
     ["29/11/2006", "01/7/2007", "08/3/2006", "20/10/2007"], (0,),
     "Luật được Quốc hội khóa XI thông qua ngày 29/11/2006 tại kỳ họp thứ 10.", 0.35),
    ("law_effective", TOPIC_LAW, "single", "Luật Bình đẳng giới có hiệu lực thi hành từ ngày nào?",
     ["01/01/2007", "01/7/2007", "29/11/2006", "01/01/2008"], (1,),
     "Luật có hiệu lực từ ngày 01/7/2007.", 0.4),
    ("gioi", TOPIC_LAW, "single", "Theo Điều 5 Luật Bình đẳng giới, «giới» chỉ điều gì?",
     ["Đặc điểm, vị trí, vai trò của nam và nữ trong tất cả các mối quan hệ xã hội",
      "Các đặc điểm sinh học của nam và nữ",
      "Sự khác biệt về thể chất giữa nam và nữ",
      "Giới tính được ghi trên giấy khai sinh"], (0,),
     "Giới chỉ đặc điểm, vị trí, vai trò của nam và nữ trong tất cả các mối quan hệ xã hội (khoản 1 Điều 5).", 0.5),
    ("gioi_tinh", TOPIC_LAW, "true_false", "Theo Luật Bình đẳng giới, «giới tính» chỉ các đặc điểm sinh học của nam, nữ.",
     ["Đúng", "Sai"], (0,), "Khoản 2 Điều 5 Luật Bình đẳng giới.", 0.7),
    ("gioi_thay_doi", TOPIC_LAW, "true_false", "Vai trò giới của nam và nữ là bẩm sinh nên không thể thay đổi.",
     ["Đúng", "Sai"], (1,), "Vai trò giới do xã hội hình thành, khác nhau giữa các nền văn hóa và thay đổi theo thời gian.", 0.55),
    ("dinh_kien", TOPIC_LAW, "single", "«Định kiến giới» là gì?",
     ["Nhận thức, thái độ và đánh giá thiên lệch, tiêu cực về đặc điểm, vị trí, vai trò và năng lực của nam hoặc nữ",
      "Sự khác biệt về đặc điểm sinh học giữa nam và nữ",
      "Biện pháp nhằm bảo đảm bình đẳng giới thực chất",
      "Việc phân công công việc theo năng lực của từng người"], (0,),
     "Khoản 3 Điều 5 Luật Bình đẳng giới.", 0.5),
    ("linh_vuc", TOPIC_LAW, "multiple", "Luật Bình đẳng giới quy định bình đẳng giới trong những lĩnh vực nào dưới đây?",
     ["Chính trị", "Kinh tế và lao động", "Giáo dục và đào tạo", "Chỉ trong lĩnh vực gia đình"], (0, 1, 2),
     "Luật quy định bình đẳng giới trong các lĩnh vực của đời sống xã hội và gia đình: chính trị, kinh tế, lao động, giáo dục và đào tạo, "
     "khoa học và công nghệ, văn hóa, thông tin, thể dục, thể thao, y tế và gia đình.", 0.3),
    ("thang_hanh_dong", TOPIC_LAW, "single",
     "Tháng hành động vì bình đẳng giới và phòng ngừa, ứng phó với bạo lực trên cơ sở giới được tổ chức hằng năm vào thời gian nào?",
     ["Từ 08/3 đến 08/4", "Từ 15/11 đến 15/12", "Từ 01/6 đến 30/6", "Từ 20/10 đến 20/11"], (1,),
     "Tháng hành động được tổ chức hằng năm từ ngày 15/11 đến ngày 15/12.", 0.45),
    ("thuc_day", TOPIC_LAW, "single", "«Biện pháp thúc đẩy bình đẳng giới» được áp dụng khi nào?",
     ["Khi có sự chênh lệch lớn giữa nam và nữ mà việc áp dụng quy định như nhau không làm giảm được sự chênh lệch đó",
      "Khi có hành vi vi phạm pháp luật về bình đẳng giới cần xử phạt",
      "Trong mọi trường hợp tuyển dụng cán bộ, công chức",
      "Chỉ khi phụ nữ chiếm dưới một nửa số người lao động"], (0,),
     "Khoản 6 Điều 5: biện pháp nhằm bảo đảm bình đẳng giới thực chất, do cơ quan nhà nước có thẩm quyền ban hành.", 0.3),
    ("long_ghep", TOPIC_LAW, "single", "Lồng ghép vấn đề bình đẳng giới trong xây dựng văn bản quy phạm pháp luật bao gồm việc gì?",
     ["Xác định vấn đề giới, dự báo tác động của văn bản đối với nữ và nam, trách nhiệm và nguồn lực để giải quyết vấn đề giới",
      "Bảo đảm số đại biểu nữ trong cơ quan ban hành văn bản",
      "Dịch văn bản sang ngôn ngữ của các dân tộc thiểu số",
      "Thêm một điều khoản về phụ nữ vào cuối văn bản"], (0,),
     "Khoản 7 Điều 5 Luật Bình đẳng giới.", 0.3),
    ("chien_luoc", TOPIC_LAW, "true_false",
     "Chiến lược quốc gia về bình đẳng giới giai đoạn 2021–2030 được ban hành kèm theo Nghị quyết số 28/NQ-CP của Chính phủ.",
     ["Đúng", "Sai"], (0,), "Nghị quyết 28/NQ-CP ngày 03/3/2021.", 0.55),
    ("co_quan", TOPIC_LAW, "single", "Từ ngày 01/3/2025, bộ nào giúp Chính phủ quản lý nhà nước về bình đẳng giới?",
     ["Bộ Nội vụ", "Bộ Y tế", "Bộ Tư pháp", "Bộ Văn hóa, Thể thao và Du lịch"], (0,),
     "Theo Nghị định 25/2025/NĐ-CP, Bộ Nội vụ tiếp nhận chức năng quản lý nhà nước về bình đẳng giới.", 0.35),
    ("muc_tieu_1790", TOPIC_LAW, "single",
     "Chương trình truyền thông về bình đẳng giới đến năm 2030 (Quyết định 1790/QĐ-TTg) đặt mục tiêu nâng nhận thức về bình đẳng giới "
     "trong các nhóm cộng đồng thêm bao nhiêu so với năm 2025?",
     ["5–10%", "10–15%", "20–25%", "50%"], (1,), "Mục tiêu đến năm 2030: tăng 10–15% so với năm 2025.", 0.3),
    ("hanh_vi_blgd", TOPIC_DV, "multiple", "Những hành vi nào sau đây là hành vi bạo lực gia đình?",
     ["Hành hạ, ngược đãi, đánh đập thành viên gia đình",
      "Lăng mạ, chì chiết, xúc phạm danh dự, nhân phẩm",
      "Kiểm soát tài sản, thu nhập nhằm tạo ra tình trạng phụ thuộc về tài chính",
      "Vợ chồng cùng bàn bạc các khoản chi tiêu của gia đình"], (0, 1, 2),
     "Điều 3 Luật Phòng, chống bạo lực gia đình 2022 liệt kê các hành vi bạo lực gia đình.", 0.35),
    ("luat_blgd", TOPIC_DV, "single", "Luật Phòng, chống bạo lực gia đình hiện hành được Quốc hội thông qua năm nào?",
     ["2007", "2015", "2022", "2006"], (2,), "Luật số 13/2022/QH15, có hiệu lực từ ngày 01/7/2023.", 0.4),
    ("chuyen_rieng", TOPIC_DV, "true_false", "Bạo lực gia đình là chuyện riêng của mỗi nhà, người ngoài không nên can thiệp.",
     ["Đúng", "Sai"], (1,), "Phòng, chống bạo lực gia đình là trách nhiệm của cá nhân, gia đình, cộng đồng và cơ quan nhà nước.", 0.7),
    ("ca_nam_nu", TOPIC_GBV, "true_false", "Bạo lực trên cơ sở giới có thể xảy ra với cả nam và nữ.",
     ["Đúng", "Sai"], (0,), "Phụ nữ và trẻ em gái là nạn nhân chủ yếu, nhưng nam giới cũng có thể bị bạo lực trên cơ sở giới.", 0.6),
    ("xu_ly_dau_tien", TOPIC_GBV, "single", "Khi phát hiện một vụ bạo lực trên cơ sở giới, việc nên làm trước tiên là gì?",
     ["Bảo đảm an toàn cho nạn nhân và báo ngay cho công an (113) hoặc Ủy ban nhân dân cấp xã",
      "Khuyên nạn nhân im lặng để giữ hòa khí gia đình",
      "Chờ nạn nhân tự giải quyết",
      "Đăng thông tin, hình ảnh nạn nhân lên mạng xã hội"], (0,),
     "An toàn của nạn nhân là trước hết; thông tin về nạn nhân phải được giữ bí mật.", 0.75),
    ("chia_se", TOPIC_FAMILY, "true_false",
     "Vợ và chồng cùng chia sẻ công việc nhà và chăm sóc con cái là một biểu hiện của bình đẳng giới trong gia đình.",
     ["Đúng", "Sai"], (0,), "Điều 18 Luật Bình đẳng giới: vợ, chồng có quyền, nghĩa vụ ngang nhau trong gia đình.", 0.8),
    ("noi_tro", TOPIC_FAMILY, "single",
     "Mục tiêu đến năm 2030 của Chiến lược quốc gia về bình đẳng giới: thời gian làm công việc nội trợ và chăm sóc không được trả công "
     "của phụ nữ giảm xuống còn bao nhiêu lần so với nam giới?",
     ["1,2 lần", "1,4 lần", "1,7 lần", "2 lần"], (1,), "Nghị quyết 28/NQ-CP: 1,7 lần vào năm 2025 và 1,4 lần vào năm 2030.", 0.25),
]  # fmt: skip

GENERAL = ["gioi", "gioi_tinh", "gioi_thay_doi", "dinh_kien", "thang_hanh_dong", "chia_se"]
FORM_QUESTIONS = {
    TOPIC_LAW: [
        "law_passed",
        "law_effective",
        "gioi",
        "gioi_tinh",
        "gioi_thay_doi",
        "dinh_kien",
        "linh_vuc",
        "thang_hanh_dong",
        "thuc_day",
        "long_ghep",
    ],
    TOPIC_DV: ["hanh_vi_blgd", "luat_blgd", "chuyen_rieng", *GENERAL, "noi_tro"],
    TOPIC_GBV: ["ca_nam_nu", "xu_ly_dau_tien", *GENERAL, "muc_tieu_1790", "co_quan"],
    TOPIC_FAMILY: ["chia_se", "noi_tro", *GENERAL[:5], "chuyen_rieng", "chien_luoc", "muc_tieu_1790"],
}

# How each demo course was tested: (pre source, post source); None = that test has not happened yet.
PLAN: dict[str, tuple[str | None, str | None]] = {
    "codo_finished": ("online", "online"),
    "vt_finished": ("online", "paper"),
    "city_finished": ("paper", "paper"),
    "hcodo_2024_law": ("paper", "paper"),
    "hcodo_2024_dv": ("paper", "paper"),
    "codo_running": ("paper", None),
    "codo_open": (None, None),
}
EVALUATED = {"codo_finished": 0.8, "city_finished": 0.75, "vt_finished": 0.6}
COMMENTS = [
    "Nội dung thiết thực, mong có thêm lớp cho cán bộ ấp.",
    "Giảng viên nhiệt tình, ví dụ gần gũi với thực tế ở xã.",
    "Thời gian hơi ngắn, phần thực hành nên kéo dài thêm.",
    "Tài liệu nên có bản in cỡ chữ lớn hơn.",
    "Đề nghị tổ chức lớp vào buổi chiều để người đi làm ruộng tham dự được.",
    "Học được nhiều về Luật Bình đẳng giới, sẽ chia sẻ lại với hội viên.",
]


def seed(today: date, units: dict, users: dict, courses: dict[str, Course]) -> dict[str, int]:
    """Create the bank, the tests, the results and the evaluations of the demo courses; returns counts."""
    rng = random.Random(SEED)
    bank = _bank(units)
    attempts = 0
    for key, (pre_source, post_source) in PLAN.items():
        course = courses.get(key)
        if course is None or db.session.scalar(select(TestForm.id).where(TestForm.course_id == course.id).limit(1)) is not None:
            continue
        organizer = users.get("tochuc.codo" if "codo" in key else "tochuc.vinhthanh" if key.startswith("vt") else "tochuc.thanhpho")
        attempts += _course_tests(course, key, bank, pre_source, post_source, rng, today, organizer)
        if key in EVALUATED:
            _evaluation(course, EVALUATED[key], rng, organizer)
        elif key == "codo_running":
            db.session.add(
                EvaluationForm(
                    course=course, items=_items(), allow_comment=True, is_open=True, created_by_id=organizer.id if organizer else None
                )
            )
    db.session.flush()
    return {"câu hỏi": len(bank), "bài kiểm tra": attempts}


def _items() -> list[dict]:
    return [{"key": k, "label": label} for k, label in rules.EVALUATION_ITEMS.items()]


def _bank(units: dict) -> dict[str, Question]:
    owner = units.get("snv") or units.get("city")
    topics = {t.name: t for t in db.session.scalars(select(Topic))}
    bank: dict[str, Question] = {}
    for key, topic_name, kind, text, options, key_ids, explanation, _difficulty in QUESTIONS:
        topic = topics.get(topic_name)
        if topic is None:
            continue
        fingerprint = rules.question_fingerprint(text)
        question = db.session.scalar(
            select(Question).where(Question.topic_id == topic.id, Question.search_key == fingerprint, Question.status == "active")
        )
        if question is None:
            rules.validate_question(kind, text, [rules.OptionInput(t, i in key_ids) for i, t in enumerate(options)], 1)
            question = Question(
                topic=topic, kind=kind, text=text, explanation=explanation, points=Decimal(1), unit_id=owner.id if owner else None,
                search_key=fingerprint, version=1, status="active",
            )  # fmt: skip
            question.options = [Option(position=i, text=t, is_correct=i in key_ids) for i, t in enumerate(options)]
            db.session.add(question)
            db.session.flush()
            question.root_id = question.id
        bank[key] = question
    db.session.flush()
    return bank


def _course_tests(
    course: Course, key: str, bank: dict[str, Question], pre_source, post_source, rng: random.Random, today: date, organizer
) -> int:
    topic_name = course.topic.name if course.topic else TOPIC_LAW
    questions = [bank[k] for k in FORM_QUESTIONS.get(topic_name, FORM_QUESTIONS[TOPIC_LAW]) if k in bank]
    if not questions:
        return 0
    first, last = course.start_date, course.end_date
    pre_opens, pre_closes = local_to_utc(first, time(7, 30)), local_to_utc(first, time(9, 0))
    post_opens, post_closes = local_to_utc(last, time(9, 30)), local_to_utc(last, time(11, 30))
    if key == "codo_open":  # a pre-test trainees can take online before the first morning
        pre_opens, pre_closes = local_to_utc(today - timedelta(days=1), time(7, 0)), local_to_utc(first, time(9, 0))
    created_by = organizer.id if organizer else None
    pre = TestForm(
        course=course, kind="pre", title="Kiểm tra nhận thức đầu khóa", time_limit_minutes=15, opens_at=pre_opens, closes_at=pre_closes,
        instructions="Chọn phương án đúng nhất; câu có ghi «có thể chọn nhiều phương án» thì chọn mọi phương án đúng.",
        created_by_id=created_by,
    )  # fmt: skip
    pre.items = [TestFormItem(question=q, position=i) for i, q in enumerate(questions)]
    post = TestForm(
        course=course, kind="post", title="Kiểm tra nhận thức cuối khóa", time_limit_minutes=15, opens_at=post_opens, closes_at=post_closes,
        same_as_pre=True, created_by_id=created_by,
    )  # fmt: skip
    db.session.add_all([pre, post])
    db.session.flush()

    enrollments = db.session.scalars(
        select(Enrollment).where(Enrollment.course_id == course.id, Enrollment.status == "confirmed").order_by(Enrollment.id)
    ).all()
    difficulty = {bank_key: d for bank_key, *_rest, d in QUESTIONS}
    base = {bank[k].id: difficulty[k] for k in bank}
    count = 0
    for enrollment in enrollments:
        ability = rng.uniform(-0.2, 0.2)
        learned = rng.choice([0.3, 0.25, 0.2, 0.15, 0.1, 0.05, 0.0, -0.1])  # a few do worse on the day
        took_pre = rng.random() > 0.06
        took_post = rng.random() > 0.04
        if pre_source and took_pre:
            count += _attempt(enrollment, pre, "pre", pre_source, questions, base, ability, rng, pre_opens, organizer)
        if post_source and took_post:
            count += _attempt(enrollment, post, "post", post_source, questions, base, ability + learned, rng, post_opens, organizer)
    return count


def _attempt(enrollment, form, kind, source, questions, base, ability, rng, opens_at: datetime, organizer) -> int:
    started = opens_at + timedelta(minutes=rng.randint(5, 30))
    attempt = Attempt(enrollment_id=enrollment.id, kind=kind, form_id=form.id, source=source, status="completed")
    answers: dict[int, set[int]] = {}
    for question in questions:
        p = min(0.97, max(0.05, base.get(question.id, 0.5) + ability + (0.0 if kind == "pre" else 0.05)))
        key = [o.id for o in question.options if o.is_correct]
        wrong = [o.id for o in question.options if not o.is_correct]
        if rng.random() < p:
            answers[question.id] = set(key)
        elif rng.random() < 0.06:
            answers[question.id] = set()  # left blank
        elif question.kind == "multiple" and len(key) > 1 and rng.random() < 0.6:
            answers[question.id] = set(key[:-1])  # missed one of the right options
        else:
            answers[question.id] = {rng.choice(wrong)}
    result = rules.score_attempt([q.as_rule() for q in questions], answers)
    attempt.score = result.score
    attempt.submitted_at = started + timedelta(minutes=rng.randint(8, 14))
    if source == "online":
        attempt.question_ids = [q.id for q in questions]
        attempt.started_at = started
        attempt.deadline = min(started + timedelta(minutes=form.time_limit_minutes), form.closes_at)
        attempt.raw_points, attempt.max_points = result.raw_points, result.max_points
        attempt.answers = [
            AttemptAnswer(question_id=qid, chosen=sorted(chosen), is_correct=result.correct[qid], answered_at=attempt.submitted_at)
            for qid, chosen in answers.items()
            if chosen
        ]
    else:
        attempt.entered_by_id = organizer.id if organizer else None
    db.session.add(attempt)
    return 1


def _evaluation(course: Course, share: float, rng: random.Random, organizer) -> None:
    form = EvaluationForm(
        course=course, items=_items(), allow_comment=True, is_open=False, created_by_id=organizer.id if organizer else None
    )
    db.session.add(form)
    db.session.flush()
    enrollments = db.session.scalars(
        select(Enrollment).where(Enrollment.course_id == course.id, Enrollment.status == "confirmed").order_by(Enrollment.id)
    ).all()
    for enrollment in enrollments:
        if rng.random() > share:
            continue
        db.session.add(
            EvaluationSubmission(form_id=form.id, enrollment_id=enrollment.id, submitted_at=local_to_utc(course.end_date, time(11, 0)))
        )
        ratings = {k: min(5, max(1, round(rng.gauss(4.2 if k != "organisation" else 3.8, 0.7)))) for k in rules.EVALUATION_ITEMS}
        comment = rng.choice(COMMENTS) if rng.random() < 0.25 else None
        db.session.add(EvaluationResponse(form_id=form.id, ratings=ratings, comment=comment))
