"""Table-driven tests of the rules added for the assessments blueprint: windows, the key's visibility,
form settings, question validation, import cells, the paper grid, distributions, relative change,
evaluation ratings. Expected values are worked out by hand in the comments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from bdg_training.assessments.rules import (
    OptionInput,
    check_can_start,
    check_evaluation_items,
    class_summary,
    evaluation_results_visible,
    format_percent,
    key_released,
    key_visible,
    kind_label,
    option_letter,
    parse_key_letters,
    parse_question_kind,
    parse_ratings,
    parse_score_grid,
    parse_true_false,
    question_fingerprint,
    rating_summary,
    relative_change,
    round_to,
    score_distribution,
    true_false_options,
    validate_form_settings,
    validate_question,
    window_state,
)
from bdg_training.rules_base import RuleViolation

D = Decimal
T0 = datetime(2026, 12, 7, 0, 30, tzinfo=UTC)  # 07:30 in Cần Thơ
H = timedelta(hours=1)


# ------------------------------------------------------------------------------------------- windows


@pytest.mark.parametrize(
    ("now", "opens", "closes", "state"),
    [
        (T0, None, None, "open"),  # no bounds: always open
        (T0 - H, T0, None, "not_yet"),
        (T0, T0, None, "open"),  # opening instant is open
        (T0 + H, T0, T0 + 2 * H, "open"),
        (T0 + 2 * H, T0, T0 + 2 * H, "closed"),  # closing instant is closed: [opens, closes)
        (T0 + 3 * H, None, T0 + 2 * H, "closed"),
        (T0 + 3 * H, T0 + 4 * H, T0 + 2 * H, "closed"),  # closed wins over not yet
    ],
)
def test_window_state(now, opens, closes, state):
    assert window_state(now, opens, closes) == state


@pytest.mark.parametrize(
    ("now", "closes", "visible"),
    [
        (T0, None, False),  # never closes → never shown (the organizer closes it to release the key)
        (T0 - timedelta(seconds=1), T0, False),  # one second before the close
        (T0, T0, True),  # exactly at the close
        (T0 + H, T0, True),
    ],
)
def test_key_visible_only_after_close(now, closes, visible):
    assert key_visible(now, closes) is visible


@pytest.mark.parametrize(
    ("now", "closes", "released"),
    [
        (T0, [], False),  # nothing to release
        (T0, [T0 - H], True),  # the only form has closed
        (T0, [T0 - H, T0 + H], False),  # the pre-test closed, the post-test reusing it is still open
        (T0, [T0 - H, None], False),  # a form sharing the questions never closes
        (T0 + H, [T0 - H, T0 + H], True),  # both closed
    ],
)
def test_key_released_waits_for_every_form_sharing_the_questions(now, closes, released):
    assert key_released(now, closes) is released


@pytest.mark.parametrize(
    ("now", "opens", "closes", "n", "message"),
    [
        (T0 - H, T0, None, 5, "chưa mở"),
        (T0 + H, None, T0, 5, "đã đóng"),
        (T0, None, None, 0, "chưa có câu hỏi"),
    ],
)
def test_check_can_start_refuses(now, opens, closes, n, message):
    with pytest.raises(RuleViolation) as info:
        check_can_start(now, opens, closes, n)
    assert message in str(info.value)


def test_check_can_start_accepts_an_open_window():
    check_can_start(T0, T0 - H, T0 + H, 10)


@pytest.mark.parametrize(
    ("kind", "limit", "opens", "closes", "n", "same", "fields"),
    [
        ("pre", 30, T0, T0 + H, 10, False, set()),
        ("pre", None, None, None, 1, False, set()),
        ("post", None, None, None, 0, True, set()),  # reuses the pre-test: no questions of its own
        ("pre", None, None, None, 0, True, {"same_as_pre", "question_ids"}),  # only a post-test can reuse
        ("mid", None, None, None, 1, False, {"kind"}),
        ("pre", 0, None, None, 1, False, {"time_limit_minutes"}),
        ("pre", 601, None, None, 1, False, {"time_limit_minutes"}),
        ("pre", 600, None, None, 1, False, set()),
        ("pre", None, T0, T0, 1, False, {"closes_at"}),  # closing at the opening instant
        ("pre", None, T0, T0 - H, 1, False, {"closes_at"}),
        ("post", None, None, None, 0, False, {"question_ids"}),
    ],
)
def test_validate_form_settings(kind, limit, opens, closes, n, same, fields):
    if not fields:
        validate_form_settings(kind, limit, opens, closes, n, same)
        return
    with pytest.raises(RuleViolation) as info:
        validate_form_settings(kind, limit, opens, closes, n, same)
    assert set(info.value.errors) == fields


def test_kind_labels():
    assert kind_label("pre") == "Kiểm tra đầu vào"
    assert kind_label("post") == "Kiểm tra cuối khóa"


# ------------------------------------------------------------------------------------------- questions


def opt(text, ok=False):  # a short constructor for the tables
    return OptionInput(text, ok)


@pytest.mark.parametrize(
    ("kind", "text", "options", "points", "fields"),
    [
        ("single", "Giới là gì?", [opt("a", True), opt("b")], 1, set()),
        ("multiple", "Chọn các ý đúng", [opt("a", True), opt("b", True), opt("c")], 2, set()),
        ("multiple", "Chỉ một ý đúng cũng được", [opt("a", True), opt("b")], 1, set()),
        ("true_false", "Giới tính là đặc điểm sinh học.", true_false_options(True), 1, set()),
        ("single", "", [opt("a", True), opt("b")], 1, {"text"}),
        ("single", "x" * 2001, [opt("a", True), opt("b")], 1, {"text"}),
        ("single", "Hai đáp án", [opt("a", True), opt("b", True)], 1, {"options"}),
        ("single", "Không đáp án", [opt("a"), opt("b")], 1, {"options"}),
        ("multiple", "Không đáp án", [opt("a"), opt("b")], 1, {"options"}),
        ("single", "Một phương án", [opt("a", True)], 1, {"options"}),
        ("single", "Bảy phương án", [opt(str(i), i == 0) for i in range(7)], 1, {"options"}),
        ("single", "Trùng phương án", [opt("Hòa", True), opt("hoà")], 1, {"options"}),  # folded alike
        ("single", "Phương án trống", [opt("a", True), opt("  ")], 1, {"options"}),
        ("true_false", "Sai định dạng", [opt("Có", True), opt("Không")], 1, {"options"}),
        ("true_false", "Hai đáp án", [opt("Đúng", True), opt("Sai", True)], 1, {"options"}),
        ("single", "Điểm 0", [opt("a", True), opt("b")], 0, {"points"}),
        ("single", "Điểm âm", [opt("a", True), opt("b")], -1, {"points"}),
        ("single", "Điểm quá lớn", [opt("a", True), opt("b")], 101, {"points"}),
        ("single", "Thiếu điểm", [opt("a", True), opt("b")], None, {"points"}),
        ("essay", "Loại lạ", [opt("a", True), opt("b")], 1, {"kind"}),
    ],
)
def test_validate_question(kind, text, options, points, fields):
    if not fields:
        validate_question(kind, text, options, points)
        return
    with pytest.raises(RuleViolation) as info:
        validate_question(kind, text, options, points)
    assert set(info.value.errors) == fields


def test_true_false_options_order_and_key():
    assert true_false_options(True) == [opt("Đúng", True), opt("Sai", False)]
    assert true_false_options(False) == [opt("Đúng", False), opt("Sai", True)]


@pytest.mark.parametrize(("index", "letter"), [(0, "A"), (1, "B"), (5, "F"), (25, "Z")])
def test_option_letter(index, letter):
    assert option_letter(index) == letter


def test_option_letter_out_of_range():
    with pytest.raises(ValueError):
        option_letter(26)


@pytest.mark.parametrize(
    ("cell", "kind"),
    [
        ("", "single"),
        (None, "single"),
        ("single", "single"),
        ("Một đáp án", "single"),
        ("MỘT LỰA CHỌN ĐÚNG", "single"),
        ("Nhiều đáp án", "multiple"),
        ("nhieu lua chon", "multiple"),
        ("Đúng/Sai", "true_false"),
        ("Đúng / Sai", "true_false"),
        ("dung sai", "true_false"),
        ("true_false", "true_false"),
    ],
)
def test_parse_question_kind(cell, kind):
    assert parse_question_kind(cell) == kind


def test_parse_question_kind_rejects_unknown():
    with pytest.raises(ValueError, match="Loại câu hỏi"):
        parse_question_kind("Tự luận")


@pytest.mark.parametrize(
    ("cell", "n", "key"),
    [
        ("A", 4, {0}),
        ("b", 4, {1}),
        ("A, C", 4, {0, 2}),
        ("A;C", 4, {0, 2}),
        ("AC", 4, {0, 2}),
        ("c a", 4, {0, 2}),
        ("A+B+D", 4, {0, 1, 3}),
        ("A,A", 4, {0}),  # repeated letter counts once
    ],
)
def test_parse_key_letters(cell, n, key):
    assert parse_key_letters(cell, n) == frozenset(key)


@pytest.mark.parametrize(("cell", "n"), [("", 4), (None, 4), ("E", 4), ("1", 4), ("Đ", 4), ("A, 2", 4), ("C", 2)])
def test_parse_key_letters_rejects(cell, n):
    with pytest.raises(ValueError):
        parse_key_letters(cell, n)


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("Đúng", True),
        ("đúng", True),
        ("Đ", True),
        ("TRUE", True),
        ("x", True),
        ("1", True),
        ("Sai", False),
        ("s", False),
        ("False", False),
        ("0", False),
    ],
)
def test_parse_true_false(cell, value):
    assert parse_true_false(cell) is value


@pytest.mark.parametrize("cell", ["", None, "Có thể", "2"])
def test_parse_true_false_rejects(cell):
    with pytest.raises(ValueError, match="Đúng"):
        parse_true_false(cell)


def test_question_fingerprint_ignores_case_diacritics_and_spaces():
    assert question_fingerprint("Giới  là gì?") == question_fingerprint("GIOI la gi?")
    assert question_fingerprint("Hòa giải") == question_fingerprint("Hoà giải")


# ------------------------------------------------------------------------------------------- paper grid


def test_parse_score_grid_accepts_both_separators_and_blank():
    values = parse_score_grid({"pre-1": "7,5", "post-1": "7.5", "pre-2": "", "post-2": " 10 ", "pre-3": None})
    assert values == {"pre-1": D("7.50"), "post-1": D("7.50"), "pre-2": None, "post-2": D("10.00"), "pre-3": None}


def test_parse_score_grid_reports_every_bad_cell_with_its_label():
    cells = {"pre-1": "7,5", "pre-2": "11", "post-2": "abc", "pre-3": "-1", "post-3": "8,255"}
    labels = {"pre-2": "Trần Văn B (đầu vào)", "post-2": "Trần Văn B (cuối khóa)"}
    with pytest.raises(RuleViolation) as info:
        parse_score_grid(cells, labels)
    errors = info.value.errors
    assert set(errors) == {"pre-2", "post-2", "pre-3", "post-3"}  # the good cell is not an error
    assert errors["pre-2"][0].startswith("Trần Văn B (đầu vào): Điểm «11» lớn hơn 10")
    assert "không hợp lệ" in errors["post-2"][0]
    assert "không được âm" in errors["pre-3"][0]
    assert "quá 2 chữ số" in errors["post-3"][0]


# ------------------------------------------------------------------------------------------- distribution


@pytest.mark.parametrize(
    ("scores", "counts"),
    [
        ([], [0] * 10),
        ([None, None], [0] * 10),
        ([0], [1] + [0] * 9),
        ([D("0.99"), 1], [1, 1] + [0] * 8),  # 0.99 in [0, 1), 1 in [1, 2)
        ([D("8.99"), 9, D("9.5"), 10], [0] * 8 + [1, 3]),  # 10 goes in the last bin [9, 10]
        ([5, D("5.00"), D("4.999")], [0, 0, 0, 0, 1, 2, 0, 0, 0, 0]),
    ],
)
def test_score_distribution(scores, counts):
    assert score_distribution(scores) == counts


def test_score_distribution_rejects_out_of_range():
    with pytest.raises(ValueError):
        score_distribution([D("10.01")])


# ------------------------------------------------------------------------------------------- relative change


@pytest.mark.parametrize(
    ("pre", "post", "expected"),
    [
        (D("6"), D("6.9"), D("0.15")),  # +15 %: the 1790/QĐ-TTg target band
        (D("5"), D("5.5"), D("0.1")),  # +10 %
        (D("8"), D("6"), D("-0.25")),  # a fall is negative
        (D("5"), D("5"), D("0")),
        (0, 5, None),  # from zero: no relative size
        (None, 5, None),
        (5, None, None),
    ],
)
def test_relative_change(pre, post, expected):
    assert relative_change(pre, post) == expected


def test_relative_change_non_terminating_is_exact_until_displayed():
    value = relative_change(Decimal("6.5"), Fraction(53, 6))  # (53/6 − 13/2) / (13/2) = 14/39
    assert format_percent(value) == "35,9%"


@pytest.mark.parametrize(
    ("x", "places", "expected"), [(Fraction(5, 6), 4, "0.8333"), (D("0.12345"), 4, "0.1235"), (Fraction(1, 8), 2, "0.13")]
)
def test_round_to(x, places, expected):
    assert str(round_to(x, places)) == expected


# ------------------------------------------------------------------------------------------- class summary by sex (the page's table)


def test_class_summary_of_the_results_page_example():
    """The class of tests/web/test_assessments_web.py, women only: D (2 → 8), E (10 → 9), G (7,5 → 9,5)
    matched; F only a post-test of 4,5."""
    s = class_summary([(2, 8), (10, 9), (None, D("4.5")), (D("7.5"), D("9.5"))], D("5"))
    # means over D, E, G: pre 19,5/3 = 6,5; post 26,5/3 = 8,8333…; gain 7/3
    assert s.n_matched == 3 and s.n_post_only == 1
    assert s.mean_pre == D("6.5")
    assert str(s.display()["mean_post"]) == "8,83"
    # ⟨g⟩ from the means: (7/3) / 3,5 = 2/3; mean of individual g over D (0,75) and G (0,8): E has pre = 10
    assert s.display()["class_g"] == "0,67" and s.hake_band == "medium"
    assert s.mean_individual_g == D("0.775") and s.n_g_defined == 2
    # pass rate over every post-test taker: 8, 9, 4,5, 9,5 → 3 of 4
    assert s.display()["pass_rate"] == "75%"


# ------------------------------------------------------------------------------------------- evaluation


def test_check_evaluation_items():
    check_evaluation_items(["content", "trainer"])
    for keys in ([], ["content", "nope"], ["content", "content"]):
        with pytest.raises(RuleViolation):
            check_evaluation_items(keys)


def test_parse_ratings_reads_every_item_and_reports_every_problem():
    assert parse_ratings(["content", "trainer"], {"content": "5", "trainer": 1, "other": "9"}) == {"content": 5, "trainer": 1}
    with pytest.raises(RuleViolation) as info:
        parse_ratings(["content", "trainer", "materials", "usefulness"], {"content": "", "trainer": "6", "materials": "4,5"})
    assert set(info.value.errors) == {"content", "trainer", "materials", "usefulness"}
    assert "chọn một mức" in info.value.errors["content"][0]
    assert "từ 1 đến 5" in info.value.errors["trainer"][0]


@pytest.mark.parametrize(
    ("values", "n", "mean", "distribution"),
    [
        ([], 0, None, {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}),
        ([5, 4, 4, None, 3], 4, D("4"), {1: 0, 2: 0, 3: 1, 4: 2, 5: 1}),  # (5+4+4+3)/4 = 4
        ([1, 2], 2, D("1.5"), {1: 1, 2: 1, 3: 0, 4: 0, 5: 0}),
    ],
)
def test_rating_summary(values, n, mean, distribution):
    s = rating_summary(values)
    assert (s.n, s.mean, s.distribution) == (n, mean, distribution)


def test_rating_summary_shares_and_bad_values():
    s = rating_summary([5, 5, 4])
    assert format_percent(s.shares[5]) == "66,67%" and s.shares[1] == 0
    for bad in (0, 6, True):
        with pytest.raises(ValueError):
            rating_summary([bad])


@pytest.mark.parametrize(("n", "visible"), [(0, False), (2, False), (3, True), (30, True)])
def test_evaluation_results_need_three_responses(n, visible):
    assert evaluation_results_visible(n) is visible
