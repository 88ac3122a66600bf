"""Assessment rules: scores, pre/post gains, class summary, item analysis, shuffling, deadlines.

Pure: standard library only, no Flask, no SQLAlchemy, no clock (``now`` always comes in as an argument).

Conventions shared by every function here:

* Scores are on 10 and are :class:`~decimal.Decimal`, never float. A stored or displayed score is rounded
  **half-up to 2 decimals** (``round_score``): 2.675 → 2.68 (a float would give 2.67, because 2.675 is
  really 2.67499… in binary).
* Means, gains and ratios are computed **exactly** (with :class:`~fractions.Fraction` inside) and only
  rounded for display; a Hake band is decided on the exact value, never on a rounded one.
* Pre/post statistics use **matched pairs** only: a person counts when they have both a pre- and a
  post-test score (DOMAIN.md §5.2).
* Invalid input that a user can type (a score in a form) raises ``ValueError`` with a Vietnamese message;
  impossible data (a single-choice question with two keys, a score of 12 coming from the database) raises
  ``ValueError`` too, because it is a programming error, not a rule failure.
"""

from __future__ import annotations

import random
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import NamedTuple, TypeVar

T = TypeVar("T")

MAX_SCORE = Decimal(10)
DEFAULT_PASS_MARK = Decimal("5.00")
_CENT = Decimal("0.01")

Number = Decimal | Fraction | int | float | str


# --------------------------------------------------------------------------------------------------
# Numbers and rounding
# --------------------------------------------------------------------------------------------------


def _fraction(x: Number) -> Fraction:
    """Exact rational value of ``x``. A float is read through its shortest repr (2.675 → 2.675)."""
    if isinstance(x, bool):
        raise TypeError("a bool is not a number here")
    if isinstance(x, Fraction):
        return x
    if isinstance(x, float):
        return Fraction(repr(x))
    if isinstance(x, str):
        return Fraction(Decimal(x.strip()))
    return Fraction(x)


def _round_half_up(value: Fraction, places: int = 2) -> Decimal:
    """Round an exact rational half-up (ties away from zero, like ``ROUND_HALF_UP``) to ``places`` decimals."""
    scale = 10**places
    scaled = abs(value) * scale
    units = int(scaled)  # floor, as scaled >= 0
    if scaled - units >= Fraction(1, 2):
        units += 1
    if value < 0:
        units = -units
    return Decimal(units).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def _to_decimal(value: Fraction) -> Decimal:
    """A Decimal for an exact rational: exact when it terminates, else 28 significant digits."""
    return Decimal(value.numerator) / Decimal(value.denominator)


def round_score(x: Number) -> Decimal:
    """Round a score (or a mean, a gain, a ratio) half-up to 2 decimals.

    * ``Decimal("2.675")`` → ``Decimal("2.68")``; ``2.675`` (float) → ``Decimal("2.68")`` as well, because a float
      is read through its shortest repr, not its binary value.
    * Ties go away from zero, as ``ROUND_HALF_UP`` does: ``-2.675`` → ``-2.68`` (a negative gain).
    * A :class:`Fraction` is rounded exactly (1/3 → 0.33, 2/3 → 0.67).
    * The result always has exactly 2 decimals: ``7`` → ``Decimal("7.00")``. The value is not clamped to 0–10.
    """
    if isinstance(x, Decimal):
        return x.quantize(_CENT, rounding=ROUND_HALF_UP)
    return _round_half_up(_fraction(x), 2)


def format_decimal(x: Number | None, places: int = 2) -> str:
    """Vietnamese display of a number: rounded half-up, decimal comma: ``Decimal("7.5")`` → ``"7,50"``.

    ``None`` → ``"—"`` (not computable, e.g. g at pre = 10).
    """
    if x is None:
        return "—"
    return str(_round_half_up(_fraction(x), places)).replace(".", ",")


def format_percent(ratio: Number | None, places: int = 2) -> str:
    """A ratio in [0, 1] as a Vietnamese percentage with trailing zeros dropped: 2/3 → ``"66,67%"``, 0.5 → ``"50%"``."""
    if ratio is None:
        return "—"
    text = str(_round_half_up(_fraction(ratio) * 100, places))
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",") + "%"


_SCORE_TEXT = re.compile(r"-?[0-9]+(?:[.,][0-9]+)?", re.ASCII)


def parse_score(text: str | None) -> Decimal | None:
    """Read a score typed by a person (paper results, a form) and return it rounded to 2 decimals.

    * Blank (``None``, ``""``, spaces) → ``None``: no score entered.
    * Surrounding spaces are ignored: ``" 8 "`` → ``Decimal("8.00")``.
    * Either decimal separator: ``"7,5"`` (Vietnamese) and ``"7.5"`` both → ``Decimal("7.50")``.
    * Rejected with a Vietnamese ``ValueError``: text that is not one number (``"abc"``, ``"7,55,1"``,
      ``"7.5.1"``, ``"1e1"``, ``"NaN"``, ``"+8"``, ``"7,"``, thousands separators, non-ASCII digits),
      a negative value (``"-1"``, also ``"-0"``), a value above 10 (``"10.5"``), and more than 2 decimals
      (``"7,555"``): a score on 10 is written with at most 2 decimals, so a third one is a typing mistake
      we refuse to round silently.
    """
    if text is None:
        return None
    raw = text.strip()
    if not raw:
        return None
    if not _SCORE_TEXT.fullmatch(raw):
        raise ValueError(f"Điểm «{raw}» không hợp lệ: nhập một số từ 0 đến 10, ví dụ 7,5.")
    value = Decimal(raw.replace(",", "."))
    if raw.startswith("-"):
        raise ValueError(f"Điểm «{raw}» không được âm: nhập một số từ 0 đến 10.")
    if value > MAX_SCORE:
        raise ValueError(f"Điểm «{raw}» lớn hơn 10: nhập một số từ 0 đến 10.")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError(f"Điểm «{raw}» có quá 2 chữ số thập phân.")
    return round_score(value)


def _check_score(x: Number, what: str = "score") -> Fraction:
    value = _fraction(x)
    if not 0 <= value <= 10:
        raise ValueError(f"{what} must be between 0 and 10, got {x!r}")
    return value


def passed(score: Number | None, pass_mark: Number = DEFAULT_PASS_MARK) -> bool:
    """A score passes when it is **at least** the pass mark (``score ≥ pass_mark``), compared exactly.

    ``None`` (no score) never passes. 5.00 passes a 5.0 mark; 4.99 does not. Scores are expected to be
    already rounded (``round_score``); this function does not round.
    """
    if score is None:
        return False
    return _fraction(score) >= _fraction(pass_mark)


# --------------------------------------------------------------------------------------------------
# Scoring one attempt
# --------------------------------------------------------------------------------------------------

QUESTION_KINDS: dict[str, str] = {
    "single": "Một lựa chọn đúng",
    "multiple": "Nhiều lựa chọn đúng",
    "true_false": "Đúng/Sai",
}


@dataclass(frozen=True)
class Question:
    """A question as the scorer needs it.

    ``correct_option_ids`` is the key. ``single`` and ``true_false`` have exactly one correct option;
    ``multiple`` has at least one. ``points`` is positive (default 1). Violations raise ``ValueError``.
    """

    id: Hashable
    kind: str
    correct_option_ids: frozenset[Hashable]
    points: Decimal = Decimal(1)

    def __post_init__(self) -> None:
        object.__setattr__(self, "correct_option_ids", frozenset(self.correct_option_ids))
        object.__setattr__(self, "points", _to_decimal(_fraction(self.points)))
        if self.kind not in QUESTION_KINDS:
            raise ValueError(f"question {self.id!r}: unknown kind {self.kind!r}")
        n_keys = len(self.correct_option_ids)
        if self.kind in ("single", "true_false") and n_keys != 1:
            raise ValueError(f"question {self.id!r}: a {self.kind} question needs exactly one correct option")
        if self.kind == "multiple" and n_keys < 1:
            raise ValueError(f"question {self.id!r}: a multiple question needs at least one correct option")
        if self.points <= 0:
            raise ValueError(f"question {self.id!r}: points must be positive")


class AttemptScore(NamedTuple):
    """``raw_points`` of ``max_points``; ``score`` on 10 rounded half-up; ``correct`` per question id."""

    raw_points: Decimal
    max_points: Decimal
    score: Decimal
    correct: dict[Hashable, bool]


def is_answer_correct(question: Question, chosen: Iterable[Hashable] | None) -> bool:
    """All-or-nothing: correct iff the set of chosen options **equals** the key.

    * ``single`` / ``true_false``: exactly the one correct option; choosing two (even including the right
      one) is wrong.
    * ``multiple``: every correct option and no wrong one. **No partial credit**: 2 of 3 correct options,
      or all 3 plus a wrong one, scores 0. (Partial credit invites ticking everything; all-or-nothing is
      also what a paper test marked by hand does.)
    * Nothing chosen (``None`` or empty) is wrong.
    """
    return frozenset(chosen or ()) == question.correct_option_ids


def score_attempt(questions: Sequence[Question], answers: Mapping[Hashable, Iterable[Hashable]]) -> AttemptScore:
    """Score an attempt: points of the correct answers, out of the points of all questions, scaled to 10.

    ``answers`` maps a question id to the set of chosen option ids. A question missing from ``answers`` is
    unanswered (wrong); an answer to an id that is not in ``questions`` is ignored (it cannot earn points).
    ``score = round_score(raw × 10 / max)``, rounded once, from exact values.

    Raises ``ValueError`` for an empty form (the score would be 0/0) or duplicate question ids.
    """
    if not questions:
        raise ValueError("Đề kiểm tra chưa có câu hỏi nào.")
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate question ids in the form")
    correct = {q.id: is_answer_correct(q, answers.get(q.id)) for q in questions}
    raw = sum((q.points for q in questions if correct[q.id]), Decimal(0))
    maximum = sum((q.points for q in questions), Decimal(0))
    score = round_score(Fraction(raw) * 10 / Fraction(maximum))
    return AttemptScore(raw, maximum, score, correct)


# --------------------------------------------------------------------------------------------------
# Gains (Hake 1998) and the class summary
# --------------------------------------------------------------------------------------------------

HAKE_BANDS: dict[str, str] = {"low": "Thấp", "medium": "Trung bình", "high": "Cao"}
CLASS_G_LABEL = "⟨g⟩ từ điểm trung bình lớp"
MEAN_INDIVIDUAL_G_LABEL = "trung bình g cá nhân"
_G_LOW = Fraction(3, 10)
_G_HIGH = Fraction(7, 10)


def gain(pre: Number | None, post: Number | None) -> Decimal | None:
    """Absolute gain ``post − pre`` in points on 10. ``None`` when either score is missing. May be negative."""
    if pre is None or post is None:
        return None
    return _to_decimal(_check_score(post, "post") - _check_score(pre, "pre"))


def _g(pre: Fraction, post: Fraction) -> Fraction | None:
    if pre == 10:
        return None
    return (post - pre) / (10 - pre)


def normalized_gain(pre: Number | None, post: Number | None) -> Decimal | None:
    """Hake's normalised gain ``g = (post − pre) / (10 − pre)``: the share of the possible gain achieved.

    * ``None`` when either score is missing, and when ``pre = 10`` (nothing left to gain: undefined, not 0).
    * Negative when the post-test is worse than the pre-test (pre 6, post 4 → −0.5); at most 1.
    * Exact when the quotient terminates, otherwise 28 significant digits (round for display only).
    """
    if pre is None or post is None:
        return None
    g = _g(_check_score(pre, "pre"), _check_score(post, "post"))
    return None if g is None else _to_decimal(g)


def hake_band(g: Number | None) -> str | None:
    """Hake's band of a normalised gain: ``"low"`` g < 0.3; ``"medium"`` 0.3 ≤ g ≤ 0.7; ``"high"`` g > 0.7.

    Both 0.3 and 0.7 are medium. A negative g is low. ``None`` → ``None``. Decided on the exact value:
    a class g of 0.2999… is low even though it displays as "0,30". Labels: ``HAKE_BANDS``.
    """
    if g is None:
        return None
    value = _fraction(g)
    if value < _G_LOW:
        return "low"
    if value > _G_HIGH:
        return "high"
    return "medium"


def hake_band_label(g: Number | None) -> str:
    """Vietnamese label of ``hake_band(g)``: Thấp / Trung bình / Cao; ``"—"`` when g is undefined."""
    band = hake_band(g)
    return "—" if band is None else HAKE_BANDS[band]


@dataclass(frozen=True)
class ClassSummary:
    """Pre/post results of a class. Every value is exact; use :meth:`display` for rounded Vietnamese strings.

    * ``n_matched`` people with both scores; ``n_pre_only``, ``n_post_only``, ``n_no_score`` (neither).
    * ``mean_pre``, ``mean_post``, ``mean_gain`` over matched pairs only (``None`` if there are none).
    * ``class_g`` = (mean_post − mean_pre) / (10 − mean_pre), from the exact class means: label
      ``CLASS_G_LABEL``. ``None`` with no pairs or when every matched pre-test is 10.
    * ``mean_individual_g`` = mean of each pair's g over the ``n_g_defined`` pairs with pre < 10: label
      ``MEAN_INDIVIDUAL_G_LABEL``. It is in general **not** equal to ``class_g``.
    * ``hake_band`` of ``class_g``.
    * ``pass_rate`` = ``n_passed / n_post_takers`` over **everyone with a post-test score**, matched or
      not: passing is about the post-test alone, so someone who missed the pre-test still passes or
      fails. ``None`` when nobody took the post-test.
    """

    n_matched: int
    n_pre_only: int
    n_post_only: int
    n_no_score: int
    mean_pre: Decimal | None
    mean_post: Decimal | None
    mean_gain: Decimal | None
    class_g: Decimal | None
    mean_individual_g: Decimal | None
    n_g_defined: int
    hake_band: str | None
    pass_mark: Decimal
    n_post_takers: int
    n_passed: int
    pass_rate: Decimal | None
    class_g_label: str = CLASS_G_LABEL
    mean_individual_g_label: str = MEAN_INDIVIDUAL_G_LABEL

    @property
    def hake_label(self) -> str:
        return "—" if self.hake_band is None else HAKE_BANDS[self.hake_band]

    def display(self) -> dict[str, str]:
        """Vietnamese strings: means, gain and g with 2 decimals (half-up, decimal comma), pass rate in %."""
        return {
            "mean_pre": format_decimal(self.mean_pre),
            "mean_post": format_decimal(self.mean_post),
            "mean_gain": format_decimal(self.mean_gain),
            "class_g": format_decimal(self.class_g),
            "mean_individual_g": format_decimal(self.mean_individual_g),
            "hake_band": self.hake_label,
            "pass_rate": format_percent(self.pass_rate),
        }


def class_summary(pairs: Iterable[tuple[Number | None, Number | None]], pass_mark: Number = DEFAULT_PASS_MARK) -> ClassSummary:
    """Summarise a class from ``(pre, post)`` pairs, one per enrolled person, either score possibly ``None``.

    See :class:`ClassSummary` for every field. Rules worth repeating:

    * Means, gain and g use **matched pairs only**; a pre-only or post-only person is counted but not averaged.
    * ``class_g`` is computed from the exact means, not from rounded ones.
    * A pair with pre = 10 counts in the means but has no individual g (``n_g_defined`` excludes it).
    * ``pass_rate`` is over all post-test takers (matched or post-only), with ``score ≥ pass_mark``.
    """
    mark = _fraction(pass_mark)
    matched: list[tuple[Fraction, Fraction]] = []
    n_pre_only = n_post_only = n_no_score = 0
    post_scores: list[Fraction] = []
    for pre, post in pairs:
        if post is not None:
            post_scores.append(_check_score(post, "post"))
        if pre is not None and post is not None:
            matched.append((_check_score(pre, "pre"), _check_score(post, "post")))
        elif pre is not None:
            _check_score(pre, "pre")
            n_pre_only += 1
        elif post is not None:
            n_post_only += 1
        else:
            n_no_score += 1

    mean_pre = mean_post = mean_gain = class_g = mean_ind_g = None
    individual = [g for g in (_g(pre, post) for pre, post in matched) if g is not None]
    if matched:
        n = len(matched)
        pre_mean = sum((pre for pre, _ in matched), Fraction(0)) / n
        post_mean = sum((post for _, post in matched), Fraction(0)) / n
        mean_pre, mean_post = _to_decimal(pre_mean), _to_decimal(post_mean)
        mean_gain = _to_decimal(post_mean - pre_mean)
        exact_class_g = _g(pre_mean, post_mean)
        if exact_class_g is not None:
            class_g = _to_decimal(exact_class_g)
    else:
        exact_class_g = None
    if individual:
        mean_ind_g = _to_decimal(sum(individual, Fraction(0)) / len(individual))

    n_passed = sum(1 for score in post_scores if score >= mark)
    pass_rate = _to_decimal(Fraction(n_passed, len(post_scores))) if post_scores else None
    return ClassSummary(
        n_matched=len(matched),
        n_pre_only=n_pre_only,
        n_post_only=n_post_only,
        n_no_score=n_no_score,
        mean_pre=mean_pre,
        mean_post=mean_post,
        mean_gain=mean_gain,
        class_g=class_g,
        mean_individual_g=mean_ind_g,
        n_g_defined=len(individual),
        hake_band=hake_band(exact_class_g),
        pass_mark=_to_decimal(mark),
        n_post_takers=len(post_scores),
        n_passed=n_passed,
        pass_rate=pass_rate,
    )


# --------------------------------------------------------------------------------------------------
# Item analysis
# --------------------------------------------------------------------------------------------------

ITEM_FLAGS: dict[str, str] = {
    "too_easy": "Quá dễ",
    "too_hard": "Quá khó",
    "negative": "Phân biệt ngược",
    "weak": "Phân biệt kém",
}
GROUP_SHARE = Fraction(27, 100)
_TOO_EASY = Fraction(9, 10)
_TOO_HARD = Fraction(2, 10)
_WEAK = Fraction(2, 10)


class AttemptResponse(NamedTuple):
    """One attempt for item analysis: a stable, unique, sortable ``attempt_id``; its ``total`` score; and
    ``items`` mapping question id → ``(correct, chosen option ids)``."""

    attempt_id: Hashable
    total: Number
    items: Mapping[Hashable, tuple[bool, Iterable[Hashable]]]


@dataclass(frozen=True)
class ItemStats:
    """Statistics of one question. ``facility`` and discriminations are exact (Decimal of a fraction)."""

    question_id: Hashable
    n: int
    n_correct: int
    facility: Decimal
    upper_facility: Decimal | None
    lower_facility: Decimal | None
    discrimination: Decimal | None
    option_counts: dict[Hashable, int]
    n_blank: int
    flags: tuple[str, ...] = ()

    @property
    def flag_labels(self) -> list[str]:
        return [ITEM_FLAGS[flag] for flag in self.flags]


def group_size(n_attempts: int) -> int:
    """Size of the top and of the bottom group: ``round-half-up(0.27 × N)``, at least 1.

    N = 8 → 2.16 → 2; N = 10 → 2.7 → 3; N = 50 → 13.5 → 14; N = 2 → 0.54 → 1; N = 1 → 1. For N ≥ 2 the two
    groups never overlap (0.27 N + 0.5 ≤ N / 2).
    """
    if n_attempts < 0:
        raise ValueError("negative number of attempts")
    return max(1, int(_round_half_up(GROUP_SHARE * n_attempts, 0)))


def item_flags(facility: Number, discrimination: Number | None) -> tuple[str, ...]:
    """Flags of an item (labels in ``ITEM_FLAGS``).

    ``too_easy`` facility > 0.9; ``too_hard`` facility < 0.2; ``negative`` discrimination < 0;
    ``weak`` 0 ≤ discrimination < 0.2. Boundaries are not flagged: facility 0.9 or 0.2, discrimination 0.2.
    No discrimination flag when discrimination is ``None``.
    """
    p = _fraction(facility)
    flags: list[str] = []
    if p > _TOO_EASY:
        flags.append("too_easy")
    if p < _TOO_HARD:
        flags.append("too_hard")
    if discrimination is not None:
        d = _fraction(discrimination)
        if d < 0:
            flags.append("negative")
        elif d < _WEAK:
            flags.append("weak")
    return tuple(flags)


def item_analysis(
    responses: Sequence[AttemptResponse | tuple[Hashable, Number, Mapping[Hashable, tuple[bool, Iterable[Hashable]]]]],
    option_ids: Mapping[Hashable, Iterable[Hashable]] | None = None,
) -> dict[Hashable, ItemStats]:
    """Classical item analysis of a test form over N attempts.

    * **Facility** (độ khó, p) = share of attempts answering the question correctly.
    * **Discrimination** (độ phân biệt, D) = facility in the top group − facility in the bottom group, each
      group being ``group_size(N)`` attempts (27 % of N, rounded half-up, at least 1) by total score.
      ``None`` when N < 2.
    * **Ties at the cut** — a convention, not a statistical rule: attempts are ranked by
      ``(total, attempt_id)`` ascending; the bottom group is the first ``n``, the top group the last ``n``.
      So among equal totals a larger ``attempt_id`` ranks higher. This makes the result deterministic.
    * **Option counts**: how many attempts chose each option (a multiple-choice attempt counts once for each
      option it chose); ``option_ids`` may list every option of a question so that unchosen ones show 0.
      ``n_blank`` counts attempts that chose nothing.
    * A question missing from an attempt's ``items`` was not on that attempt's form: that attempt is left
      out of the question's counts (an unanswered question must be passed as ``(False, set())``).
      If a group has no attempt with the question, its facility and D are ``None``.
    * Flags: see :func:`item_flags`.

    Raises ``ValueError`` on duplicate attempt ids. Returns a dict keyed by question id, in order of first
    appearance in ``responses``; a question that no attempt has gets no entry (there is nothing to measure).
    """
    records = [AttemptResponse(*r) for r in responses]
    ids = [r.attempt_id for r in records]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate attempt ids in item analysis")
    ranked = sorted(records, key=lambda r: (_fraction(r.total), r.attempt_id))
    if len(ranked) >= 2:
        n = group_size(len(ranked))
        lower, upper = ranked[:n], ranked[-n:]
    else:
        lower = upper = []

    question_ids: list[Hashable] = []
    seen: set[Hashable] = set()
    for record in records:
        for qid in record.items:
            if qid not in seen:
                seen.add(qid)
                question_ids.append(qid)

    def share(group: list[AttemptResponse], qid: Hashable) -> Fraction | None:
        answered = [r.items[qid][0] for r in group if qid in r.items]
        return Fraction(sum(1 for ok in answered if ok), len(answered)) if answered else None

    result: dict[Hashable, ItemStats] = {}
    for qid in question_ids:
        answered = [r.items[qid] for r in records if qid in r.items]
        counts: dict[Hashable, int] = {option: 0 for option in (option_ids or {}).get(qid, ())}
        n_blank = 0
        for _, chosen in answered:
            chosen_set = set(chosen or ())
            if not chosen_set:
                n_blank += 1
            for option in chosen_set:
                counts[option] = counts.get(option, 0) + 1
        n_correct = sum(1 for ok, _ in answered if ok)
        facility = Fraction(n_correct, len(answered))
        up = share(upper, qid) if upper else None
        low = share(lower, qid) if lower else None
        discrimination = None if up is None or low is None else up - low
        result[qid] = ItemStats(
            question_id=qid,
            n=len(answered),
            n_correct=n_correct,
            facility=_to_decimal(facility),
            upper_facility=None if up is None else _to_decimal(up),
            lower_facility=None if low is None else _to_decimal(low),
            discrimination=None if discrimination is None else _to_decimal(discrimination),
            option_counts=counts,
            n_blank=n_blank,
            flags=item_flags(facility, discrimination),
        )
    return result


# --------------------------------------------------------------------------------------------------
# Shuffling and time
# --------------------------------------------------------------------------------------------------


def shuffled_order(items: Iterable[T], seed: str) -> list[T]:
    """A new list with ``items`` in an order fixed by ``seed``; ``items`` itself is not changed.

    Uses ``random.Random(seed).shuffle``. A ``str`` seed is hashed with SHA-512 by :mod:`random` (not with
    ``hash()``), so the order is the same in every process and after a reload, whatever ``PYTHONHASHSEED``.
    Use one seed per attempt and purpose, e.g. ``f"{attempt_id}:questions"`` and
    ``f"{attempt_id}:options:{question_id}"``, and shuffle the items in a stable base order (by id), so the
    same attempt always sees the same order. Not for security: the order is predictable from the seed.
    """
    if not isinstance(seed, str):
        raise TypeError("seed must be a str")
    result = list(items)
    random.Random(seed).shuffle(result)
    return result


def deadline(started_at: datetime, time_limit_minutes: int | None, window_closes_at: datetime | None) -> datetime | None:
    """When an attempt must be submitted: the **earlier** of ``started_at + time limit`` and the window close.

    * No time limit (``None``) → the window close; no window close → start + limit; neither → ``None``.
    * A time limit must be a positive number of minutes (``ValueError`` otherwise).
    * Starting late does not buy extra time: the window close still wins.
    * Give aware datetimes (UTC); mixing naive and aware raises ``TypeError`` from the comparison.
    """
    candidates: list[datetime] = []
    if time_limit_minutes is not None:
        if isinstance(time_limit_minutes, bool) or time_limit_minutes <= 0:
            raise ValueError("time limit must be a positive number of minutes")
        candidates.append(started_at + timedelta(minutes=time_limit_minutes))
    if window_closes_at is not None:
        candidates.append(window_closes_at)
    return min(candidates) if candidates else None


def is_late(now: datetime, deadline: datetime | None, grace_seconds: int = 0) -> bool:
    """Late when ``now`` is strictly after ``deadline + grace_seconds``; exactly at that instant is on time.

    ``deadline`` ``None`` (no limit, no window) is never late. The grace (≥ 0) absorbs network delay on submit.
    """
    if grace_seconds < 0:
        raise ValueError("grace must not be negative")
    if deadline is None:
        return False
    return now > deadline + timedelta(seconds=grace_seconds)
