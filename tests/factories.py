"""Factories: the few lines every test needs to build its world, in one place."""

from __future__ import annotations

import itertools
from datetime import date

from werkzeug.security import generate_password_hash

from bdg_training.auth.models import User
from bdg_training.extensions import db
from bdg_training.units.models import Signer, Unit

PASSWORD = "mat-khau-thu-nghiem"
_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
_counter = itertools.count(1)


class Factory:
    def unit(self, name: str | None = None, *, kind: str = "xa", parent: Unit | None = None, commit: bool = True, **values) -> Unit:
        unit = Unit(kind=kind, name=name or f"Đơn vị {next(_counter)}", parent=parent, **values)
        db.session.add(unit)
        self._done(commit)
        return unit

    def user(self, role: str = "organizer", *, unit: Unit | None = None, username: str | None = None, commit: bool = True, **values) -> User:
        if unit is None and role != "trainee":
            unit = self.unit(commit=False)
        user = User(
            username=username or f"{role}{next(_counter)}",
            full_name=values.pop("full_name", "Người Thử Nghiệm"),
            role=role,
            unit=unit,
            password_hash=_HASH,
            **values,
        )
        db.session.add(user)
        self._done(commit)
        return user

    def signer(self, unit: Unit, *, commit: bool = True, **values) -> Signer:
        values.setdefault("full_name", "Trần Thị Mỹ Linh")
        values.setdefault("title", "PHÓ GIÁM ĐỐC")
        signer = Signer(unit=unit, **values)
        db.session.add(signer)
        self._done(commit)
        return signer

    def reform_tree(self) -> dict[str, Unit]:
        """A small Cần Thơ: the city, huyện Cờ Đỏ and huyện Vĩnh Thạnh (closed 30/06/2025),
        and their successors xã Cờ Đỏ and xã Vĩnh Thạnh (from 01/07/2025)."""
        end, start = date(2025, 6, 30), date(2025, 7, 1)
        city = self.unit("Cần Thơ", kind="thanh_pho", commit=False)
        h_codo = self.unit("Cờ Đỏ", kind="huyen", parent=city, valid_to=end, commit=False)
        tt_codo = self.unit("Cờ Đỏ", kind="thi_tran", parent=h_codo, valid_to=end, commit=False)
        h_vt = self.unit("Vĩnh Thạnh", kind="huyen", parent=city, valid_to=end, commit=False)
        x_codo = self.unit("Cờ Đỏ", kind="xa", parent=city, valid_from=start, commit=False)
        x_vt = self.unit("Vĩnh Thạnh", kind="xa", parent=city, valid_from=start, commit=False)
        vstbpn = self.unit("xã Cờ Đỏ", kind="ban_vstbpn", parent=x_codo, valid_from=start, commit=False)
        h_codo.successors.append(x_codo)
        tt_codo.successors.append(x_codo)
        h_vt.successors.append(x_vt)
        db.session.commit()
        return {"city": city, "h_codo": h_codo, "tt_codo": tt_codo, "h_vt": h_vt, "x_codo": x_codo, "x_vt": x_vt, "vstbpn_codo": vstbpn}

    # --- courses ---------------------------------------------------------------------------
    def topic(self, name: str | None = None, *, commit: bool = True, **values):
        from bdg_training.courses.models import Topic

        topic = Topic(name=name or f"Chủ đề {next(_counter)}", **values)
        db.session.add(topic)
        self._done(commit)
        return topic

    def plan(self, unit: Unit, year: int = 2026, *, commit: bool = True, **values):
        from bdg_training.courses.models import TrainingPlan

        values.setdefault("planned_courses", 4)
        values.setdefault("planned_trainees", 120)
        plan = TrainingPlan(unit=unit, year=year, **values)
        db.session.add(plan)
        self._done(commit)
        return plan

    def course(self, unit: Unit | None = None, *, sessions=None, topic=None, commit: bool = True, **values):
        """A course (draft unless ``status=``) of ``unit`` with ``sessions`` given as
        ``[(date, "07:30", "11:00"), …]`` or dicts of CourseSession fields; by default one session
        on the start date. ``published_at`` is set for any status but draft unless given."""
        from datetime import time, timedelta

        from bdg_training.courses.models import Course, CourseSession
        from bdg_training.database import utcnow

        n = next(_counter)
        start = values.pop("start_date", date(2026, 12, 7))
        values.setdefault("end_date", start + timedelta(days=1))
        values.setdefault("code", f"T-{n:04d}")
        values.setdefault("title", f"Lớp thử nghiệm {n}")
        values.setdefault("capacity", 40)
        values.setdefault("venue", "Hội trường UBND xã")
        if values.get("status", "draft") != "draft":
            values.setdefault("published_at", utcnow())
        course = Course(unit=unit or self.unit(commit=False), topic=topic or self.topic(commit=False), start_date=start, **values)
        if sessions is None:
            sessions = [(start, "07:30", "11:00")]
        for item in sessions:
            if isinstance(item, dict):
                course.sessions.append(CourseSession(**item))
            else:
                day, begin, end = item[:3]
                course.sessions.append(
                    CourseSession(date=day, start_time=time.fromisoformat(begin), end_time=time.fromisoformat(end), **(item[3] if len(item) > 3 else {}))
                )
        db.session.add(course)
        self._done(commit)
        return course

    # --- enrollment ------------------------------------------------------------------------
    def trainee(self, full_name: str | None = None, *, sex: str = "nu", commit: bool = True, **values):
        """A trainee; ``full_name`` "Họ Đệm… Tên" is split as family = first word, given = last word
        unless the parts are given."""
        from bdg_training.enrollment.models import Trainee

        n = next(_counter)
        words = (full_name or f"Nguyễn Thị Thử{n}").split()
        values.setdefault("family_name", words[0])
        values.setdefault("given_name", words[-1])
        values.setdefault("middle_name", " ".join(words[1:-1]))
        if "birth_date" in values and values["birth_date"] is not None:
            values.setdefault("birth_year", values["birth_date"].year)
        if values.get("ethnicity_code"):
            values.setdefault("ethnicity_code_list", "TCTK-1979")
        trainee = Trainee(full_name=" ".join(words), sex=sex, **values)
        trainee.refresh_keys()
        db.session.add(trainee)
        self._done(commit)
        return trainee

    def enrollment(self, course, trainee=None, *, status: str = "confirmed", commit: bool = True, **values):
        from bdg_training.enrollment.models import Enrollment

        values.setdefault("source", "organizer")
        enrollment = Enrollment(course=course, trainee=trainee or self.trainee(commit=False), status=status, **values)
        db.session.add(enrollment)
        self._done(commit)
        return enrollment

    # --- certificates ------------------------------------------------------------------------
    def issuer(self, unit: Unit | None = None, *, short_code: str = "SNV", commit: bool = True, **values):
        """Issuer settings (Sở Nội vụ by default) for ``unit`` (a new ``so`` unit when not given)."""
        from bdg_training.certificates.models import IssuerSettings

        if unit is None:
            unit = self.unit(values.pop("unit_name", "Sở Nội vụ"), kind="so", short_code=short_code, commit=False)
        elif not unit.short_code:
            unit.short_code = short_code
        values.setdefault("governing_body", "UBND THÀNH PHỐ CẦN THƠ")
        values.setdefault("issuing_body", "SỞ NỘI VỤ")
        values.setdefault("place_name", "Cần Thơ")
        settings = IssuerSettings(unit=unit, **values)
        db.session.add(settings)
        self._done(commit)
        return settings

    def post_score(self, enrollment, score, *, commit: bool = True):
        """A completed paper post-test with this score (assessments' Attempt)."""
        from decimal import Decimal

        from bdg_training.assessments.models import Attempt

        attempt = Attempt(enrollment=enrollment, kind="post", source="paper", status="completed", score=Decimal(str(score)))
        db.session.add(attempt)
        self._done(commit)
        return attempt

    def certificate_class(self, people=None, *, unit: Unit | None = None, settings=None, sessions: int = 4, days_ago: int = 10, **course_values):
        """A finished course whose certificates can be issued today: issuer settings, a KT. signer, ``sessions``
        held sessions, and one confirmed trainee per entry of ``people`` — dicts with ``name``, ``sex``,
        ``attended`` (sessions present, default all), ``score`` (post-test, default 8; ``None`` = no test),
        ``status`` (enrolment, default confirmed) and any Trainee field. Returns a dict: course, settings,
        issuer, signer, enrollments (in ``people`` order)."""
        from datetime import timedelta

        from bdg_training.enrollment.models import Attendance

        if people is None:
            people = [{"name": "Nguyễn Thị Hồng Phương"}, {"name": "Trần Văn Bình", "sex": "nam"}, {"name": "Lê Thị Mỹ Duyên"}]
        settings = settings or self.issuer(commit=False)
        issuer = settings.unit
        signer = self.signer(issuer, authority_prefix="KT.", on_behalf_title="GIÁM ĐỐC", title="PHÓ GIÁM ĐỐC", full_name="Trần Thị Mỹ Linh", commit=False)
        start = date.today() - timedelta(days=days_ago)
        course_values.setdefault("status", "finished")
        course_values.setdefault("end_date", start + timedelta(days=sessions - 1))
        course_values.setdefault("hours", 16)
        course = self.course(
            unit or issuer,
            start_date=start,
            sessions=[(start + timedelta(days=i), "07:30", "11:00") for i in range(sessions)],
            issuing_unit=issuer,
            signer=signer,
            commit=False,
            **course_values,
        )
        enrollments = []
        for person in people:
            person = dict(person)
            attended = person.pop("attended", sessions)
            score = person.pop("score", 8)
            status = person.pop("status", "confirmed")
            trainee = self.trainee(person.pop("name", None), sex=person.pop("sex", "nu"), commit=False, **person)
            enrollment = self.enrollment(course, trainee, status=status, commit=False)
            for session in course.sessions[:attended]:
                db.session.add(Attendance(enrollment=enrollment, session=session, status="present"))
            if score is not None:
                self.post_score(enrollment, score, commit=False)
            enrollments.append(enrollment)
        db.session.commit()
        return {"course": course, "settings": settings, "issuer": issuer, "signer": signer, "enrollments": enrollments}

    # --- assessments -------------------------------------------------------------------------
    def question(
        self,
        text: str | None = None,
        *,
        topic=None,
        kind: str = "single",
        options=None,
        key=(0,),
        points=1,
        unit=None,
        commit: bool = True,
        **values,
    ):
        """A bank question (version 1). ``options`` are texts (default 4, "Đúng/Sai" for true/false);
        ``key`` the indexes of the correct ones."""
        from decimal import Decimal

        from bdg_training.assessments.models import Option, Question

        n = next(_counter)
        if options is None:
            options = ["Đúng", "Sai"] if kind == "true_false" else [f"Phương án {c} câu {n}" for c in "ABCD"]
        question = Question(
            topic=topic or self.topic(commit=False),
            kind=kind,
            text=text or f"Câu hỏi thử nghiệm số {n}?",
            points=Decimal(str(points)),
            unit=unit,
            version=1,
            status=values.pop("status", "active"),
            **values,
        )
        from bdg_training.text import fold

        question.search_key = fold(question.text)
        question.options = [Option(position=i, text=t, is_correct=i in key) for i, t in enumerate(options)]
        db.session.add(question)
        db.session.flush()
        question.root_id = question.id
        self._done(commit)
        return question

    def test_form(self, course, kind: str = "pre", questions=(), *, commit: bool = True, **values):
        """A test form of ``course`` with ``questions`` in order (shuffling off unless asked)."""
        from bdg_training.assessments.models import TestForm, TestFormItem

        values.setdefault("shuffle_questions", False)
        values.setdefault("shuffle_options", False)
        form = TestForm(course=course, kind=kind, **values)
        form.items = [TestFormItem(question=q, position=i) for i, q in enumerate(questions)]
        db.session.add(form)
        self._done(commit)
        return form

    def paper_score(self, enrollment, kind: str, score, *, commit: bool = True):
        """A completed paper pre- or post-test with this score."""
        from decimal import Decimal

        from bdg_training.assessments.models import Attempt

        attempt = Attempt(enrollment=enrollment, kind=kind, source="paper", status="completed", score=Decimal(str(score)))
        db.session.add(attempt)
        self._done(commit)
        return attempt

    @staticmethod
    def _done(commit: bool) -> None:
        db.session.flush()
        if commit:
            db.session.commit()
