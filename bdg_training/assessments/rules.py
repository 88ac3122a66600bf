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

from bdg_training.rules_base import RuleViolation
from bdg_training.text import fold

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


def round_to(x: Number, places: int) -> Decimal:
    """Round half-up to ``places`` decimals (exactly, like :func:`round_score`): ratios for a spreadsheet,
    e.g. a pass rate 5/6 → ``round_to(5/6, 4)`` = 0.8333."""
    return _round_half_up(_fraction(x), places)


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


# --------------------------------------------------------------------------------------------------
# Test forms, windows, relative change, score distribution
# --------------------------------------------------------------------------------------------------

PRE, POST = "pre", "post"
TEST_KINDS: dict[str, str] = {PRE: "Kiểm tra đầu vào", POST: "Kiểm tra cuối khóa"}
TEST_KIND_SHORT: dict[str, str] = {PRE: "Đầu vào", POST: "Cuối khóa"}
ONLINE, PAPER = "online", "paper"
ATTEMPT_SOURCES: dict[str, str] = {ONLINE: "Trực tuyến", PAPER: "Trên giấy"}
IN_PROGRESS, COMPLETED = "in_progress", "completed"
ATTEMPT_STATUSES: dict[str, str] = {IN_PROGRESS: "Đang làm", COMPLETED: "Đã nộp"}
MAX_TIME_LIMIT_MINUTES = 600
# A submission this many seconds after the deadline is still accepted (network delay on a phone).
DEFAULT_GRACE_SECONDS = 30

NOT_YET, OPEN_WINDOW, CLOSED_WINDOW = "not_yet", "open", "closed"
WINDOW_LABELS: dict[str, str] = {NOT_YET: "Chưa mở", OPEN_WINDOW: "Đang mở", CLOSED_WINDOW: "Đã đóng"}


def kind_label(kind: str) -> str:
    return TEST_KINDS.get(kind, kind)


def window_state(now: datetime, opens_at: datetime | None, closes_at: datetime | None) -> str:
    """State of a test's window at ``now``: ``not_yet`` before ``opens_at``, ``closed`` from ``closes_at`` on,
    else ``open``. A missing bound is open-ended. The window is ``[opens_at, closes_at)``: at the exact
    closing instant it is closed."""
    if closes_at is not None and now >= closes_at:
        return CLOSED_WINDOW
    if opens_at is not None and now < opens_at:
        return NOT_YET
    return OPEN_WINDOW


def key_visible(now: datetime, closes_at: datetime | None) -> bool:
    """A trainee may see the key (and which questions they missed) only once the window has **closed**.

    No closing time means the window never closes, so the key is never shown: the organizer closes the
    test (which sets ``closes_at``) to release it. Exactly at ``closes_at`` the key is visible.
    """
    return closes_at is not None and now >= closes_at


def key_released(now: datetime, closes_of_forms_sharing_questions: Iterable[datetime | None]) -> bool:
    """The key of an attempt is shown only when **every** test form holding any of its questions has closed.

    A post-test that reuses the pre-test (or shares some questions with it) keeps the pre-test's key hidden
    until the post-test closes too: otherwise reviewing the pre-test would hand out the post-test's answers.
    Pass the closing times of the attempt's own form and of every other form of the course sharing a
    question with it. An empty list releases nothing.
    """
    closes = list(closes_of_forms_sharing_questions)
    return bool(closes) and all(key_visible(now, c) for c in closes)


def check_can_start(now: datetime, opens_at: datetime | None, closes_at: datetime | None, n_questions: int) -> None:
    """Refuse to start an online attempt outside the window or on a form without questions
    (``RuleViolation`` with a Vietnamese reason)."""
    state = window_state(now, opens_at, closes_at)
    if state == NOT_YET:
        RuleViolation.single("", "Bài kiểm tra chưa mở.")
    if state == CLOSED_WINDOW:
        RuleViolation.single("", "Bài kiểm tra đã đóng, không thể bắt đầu làm bài.")
    if n_questions <= 0:
        RuleViolation.single("", "Đề kiểm tra chưa có câu hỏi nào.")


def validate_form_settings(
    kind: str,
    time_limit_minutes: int | None,
    opens_at: datetime | None,
    closes_at: datetime | None,
    n_questions: int,
    same_as_pre: bool = False,
) -> None:
    """Check a test form's settings; every reason at once (``RuleViolation`` keyed by form field).

    * ``kind`` is ``pre`` or ``post``; only a post-test can reuse the pre-test's questions (``same_as_pre``).
    * The time limit, when given, is 1–600 minutes.
    * The window closes after it opens.
    * A form with its own questions needs at least one (a form reusing the pre-test's has none of its own).
    """
    errors = RuleViolation()
    if kind not in TEST_KINDS:
        errors.add("kind", "Loại bài kiểm tra không hợp lệ.")
    if same_as_pre and kind != POST:
        errors.add("same_as_pre", "Chỉ bài kiểm tra cuối khóa mới dùng lại đề đầu vào.")
    if time_limit_minutes is not None and not (1 <= time_limit_minutes <= MAX_TIME_LIMIT_MINUTES):
        errors.add("time_limit_minutes", f"Thời gian làm bài từ 1 đến {MAX_TIME_LIMIT_MINUTES} phút.")
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        errors.add("closes_at", "Thời điểm đóng phải sau thời điểm mở.")
    if not (same_as_pre and kind == POST) and n_questions <= 0:
        errors.add("question_ids", "Chọn ít nhất một câu hỏi cho đề.")
    errors.raise_if_any()


def relative_change(mean_pre: Number | None, mean_post: Number | None) -> Decimal | None:
    """Relative change of the class mean, ``(post − pre) / pre``: the "+10–15 %" of QĐ 1790/QĐ-TTg.

    ``None`` when a mean is missing or ``pre = 0`` (a rise from nothing has no relative size). Exact;
    format with :func:`format_percent`. Example: 6.00 → 6.90 is +15 %.
    """
    if mean_pre is None or mean_post is None:
        return None
    pre, post = _check_score(mean_pre, "pre"), _check_score(mean_post, "post")
    if pre == 0:
        return None
    return _to_decimal((post - pre) / pre)


SCORE_BIN_LABELS: tuple[str, ...] = tuple(f"{i}–<{i + 1}" for i in range(9)) + ("9–10",)


def score_distribution(scores: Iterable[Number | None]) -> list[int]:
    """Counts of scores in ten bins of one point: [0, 1), [1, 2), …, [8, 9) and [9, 10] (10 goes in the
    last bin). ``None`` (not taken) is skipped; a score outside 0–10 raises ``ValueError``.
    Labels: ``SCORE_BIN_LABELS``."""
    counts = [0] * 10
    for score in scores:
        if score is None:
            continue
        value = _check_score(score)
        counts[min(int(value), 9)] += 1
    return counts


# --------------------------------------------------------------------------------------------------
# Questions: validation, letters, import cells
# --------------------------------------------------------------------------------------------------

MAX_OPTIONS = 6
TRUE_LABEL, FALSE_LABEL = "Đúng", "Sai"
QUESTION_STATUSES: dict[str, str] = {"active": "Đang dùng", "superseded": "Đã có phiên bản mới", "retired": "Đã ngừng dùng"}
_KIND_ALIASES: dict[str, str] = {
    "single": "single",
    "mot dap an": "single",
    "mot lua chon": "single",
    "mot lua chon dung": "single",
    "1 dap an": "single",
    "multiple": "multiple",
    "nhieu dap an": "multiple",
    "nhieu lua chon": "multiple",
    "nhieu lua chon dung": "multiple",
    "true_false": "true_false",
    "dung/sai": "true_false",
    "dung sai": "true_false",
    "dung-sai": "true_false",
}


def option_letter(index: int) -> str:
    """0 → "A", 1 → "B", …: how options are named on paper, in the key and in the item analysis."""
    if not 0 <= index < 26:
        raise ValueError("option index out of range")
    return chr(ord("A") + index)


@dataclass(frozen=True)
class OptionInput:
    text: str
    is_correct: bool


def validate_question(kind: str, text: str, options: Sequence[OptionInput], points: Number | None = 1) -> None:
    """Check a question before it is saved; every reason at once (``RuleViolation`` keyed by field).

    * The text is required (at most 2000 characters).
    * ``single``/``multiple``: 2–6 options, none empty, no two alike (ignoring case and diacritics);
      ``single`` has exactly one correct option, ``multiple`` at least one.
    * ``true_false``: exactly the two options "Đúng" and "Sai", one of them correct.
    * Points: more than 0 and at most 100.
    """
    errors = RuleViolation()
    if kind not in QUESTION_KINDS:
        errors.add("kind", "Loại câu hỏi không hợp lệ.")
    if not (text or "").strip():
        errors.add("text", "Nhập nội dung câu hỏi.")
    elif len(text) > 2000:
        errors.add("text", "Nội dung câu hỏi không được dài quá 2000 ký tự.")
    n_correct = sum(1 for o in options if o.is_correct)
    if kind == "true_false":
        if [o.text for o in options] != [TRUE_LABEL, FALSE_LABEL] or n_correct != 1:
            errors.add("options", "Câu Đúng/Sai có đúng hai phương án «Đúng», «Sai» và một đáp án.")
    elif kind in QUESTION_KINDS:
        if any(not (o.text or "").strip() for o in options):
            errors.add("options", "Phương án không được để trống.")
        if not 2 <= len(options) <= MAX_OPTIONS:
            errors.add("options", f"Câu hỏi cần từ 2 đến {MAX_OPTIONS} phương án.")
        folded = [fold(o.text) for o in options if (o.text or "").strip()]
        if len(set(folded)) != len(folded):
            errors.add("options", "Có hai phương án giống nhau.")
        if kind == "single" and n_correct != 1:
            errors.add("options", "Câu một lựa chọn phải có đúng một đáp án đúng.")
        if kind == "multiple" and n_correct < 1:
            errors.add("options", "Câu nhiều lựa chọn phải có ít nhất một đáp án đúng.")
    if points is None:
        errors.add("points", "Nhập số điểm của câu hỏi.")
    else:
        value = _fraction(points)
        if not 0 < value <= 100:
            errors.add("points", "Điểm của câu hỏi phải lớn hơn 0 và không quá 100.")
    errors.raise_if_any()


def true_false_options(correct_is_true: bool) -> list[OptionInput]:
    return [OptionInput(TRUE_LABEL, correct_is_true), OptionInput(FALSE_LABEL, not correct_is_true)]


def parse_question_kind(value: object) -> str:
    """A question kind from an import cell: the code (``single``) or its Vietnamese name, any case or
    diacritics ("Một đáp án", "nhieu lua chon", "Đúng/Sai"). Blank → ``single``. Else ``ValueError``."""
    text = fold(str(value or "")).replace(" / ", "/")
    if not text:
        return "single"
    for label, kind in ((fold(v), k) for k, v in QUESTION_KINDS.items()):
        if text == label:
            return kind
    if text in _KIND_ALIASES:
        return _KIND_ALIASES[text]
    raise ValueError(f"Loại câu hỏi «{value}» không hợp lệ: dùng «Một đáp án», «Nhiều đáp án» hoặc «Đúng/Sai».")


def parse_key_letters(value: object, n_options: int) -> frozenset[int]:
    """The key of an import row as option indexes: "A", "a, c", "A;C", "AC", "B C" → {0, 2}…

    Every letter must name one of the ``n_options`` options; at least one letter. ``ValueError`` otherwise.
    """
    text = str(value or "").strip().upper()
    letters = [ch for ch in text if not (ch.isspace() or ch in ",;/+&")]
    if not letters:
        raise ValueError("Thiếu đáp án đúng (ví dụ: A hoặc A, C).")
    result: set[int] = set()
    for ch in letters:
        index = ord(ch) - ord("A")
        if not (len(ch) == 1 and "A" <= ch <= "Z") or index >= n_options:
            last = option_letter(max(n_options - 1, 0))
            raise ValueError(f"Đáp án «{value}» không hợp lệ: chỉ dùng các chữ A–{last} của phương án đã nhập.")
        result.add(index)
    return frozenset(result)


def parse_true_false(value: object) -> bool:
    """The key of a true/false import row: "Đúng"/"Đ"/"True"/"T"/"1"/"x" → True; "Sai"/"S"/"False"/"F"/"0" → False."""
    text = fold(str(value if value is not None else ""))
    if text in {"dung", "d", "true", "t", "1", "x", "co"}:
        return True
    if text in {"sai", "s", "false", "f", "0", "khong"}:
        return False
    raise ValueError(f"Đáp án «{value}» không hợp lệ cho câu Đúng/Sai: nhập «Đúng» hoặc «Sai».")


def question_fingerprint(text: str) -> str:
    """Duplicate key of a question text: folded (no case, no diacritics), spaces collapsed."""
    return fold(text)


# --------------------------------------------------------------------------------------------------
# Paper results grid
# --------------------------------------------------------------------------------------------------


def parse_score_grid(cells: Mapping[Hashable, str | None], labels: Mapping[Hashable, str] | None = None) -> dict[Hashable, Decimal | None]:
    """Read a whole grid of typed scores (row key → text); all-or-nothing.

    Every cell goes through :func:`parse_score` ("7,5" and "7.5" accepted, 0–10, blank → ``None``).
    If any cell is bad, raise one ``RuleViolation`` whose errors are keyed by the row key (as ``str``) and
    prefixed with the row's label, so the caller saves **nothing** and shows every bad row at once.
    """
    values: dict[Hashable, Decimal | None] = {}
    errors = RuleViolation()
    for key, text in cells.items():
        try:
            values[key] = parse_score(text)
        except ValueError as exc:
            label = (labels or {}).get(key)
            errors.add(str(key), f"{label}: {exc}" if label else str(exc))
    errors.raise_if_any()
    return values


# --------------------------------------------------------------------------------------------------
# Course evaluation (phiếu đánh giá khóa học)
# --------------------------------------------------------------------------------------------------

EVALUATION_ITEMS: dict[str, str] = {
    "content": "Nội dung tập huấn phù hợp, thiết thực",
    "trainer": "Giảng viên truyền đạt dễ hiểu, nắm vững chuyên môn",
    "materials": "Tài liệu tập huấn đầy đủ, dễ sử dụng",
    "organisation": "Công tác tổ chức (thời gian, địa điểm, hậu cần)",
    "usefulness": "Kiến thức hữu ích, có thể áp dụng vào công việc",
}
RATING_SCALE: dict[int, str] = {1: "Rất không hài lòng", 2: "Không hài lòng", 3: "Bình thường", 4: "Hài lòng", 5: "Rất hài lòng"}
# Results of an anonymous evaluation are shown only from this many responses on, so nobody can tell
# one person's answers from the list of who has answered.
ANONYMITY_THRESHOLD = 3
MAX_COMMENT_LENGTH = 2000


def check_evaluation_items(keys: Sequence[str]) -> None:
    """At least one item, each from ``EVALUATION_ITEMS``, none twice."""
    errors = RuleViolation()
    if not keys:
        errors.add("items", "Chọn ít nhất một tiêu chí đánh giá.")
    if any(k not in EVALUATION_ITEMS for k in keys):
        errors.add("items", "Tiêu chí đánh giá không hợp lệ.")
    if len(set(keys)) != len(keys):
        errors.add("items", "Một tiêu chí được chọn hai lần.")
    errors.raise_if_any()


def parse_ratings(item_keys: Sequence[str], raw: Mapping[str, object]) -> dict[str, int]:
    """Read a trainee's ratings: every item of the form needs a whole number from 1 to 5.

    Keys not on the form are ignored. A ``RuleViolation`` keyed by item lists every missing or bad rating.
    """
    result: dict[str, int] = {}
    errors = RuleViolation()
    for key in item_keys:
        value = raw.get(key)
        text = str(value).strip() if value is not None else ""
        if not text:
            errors.add(key, "Vui lòng chọn một mức đánh giá.")
            continue
        if not (text.isascii() and text.isdigit()) or int(text) not in RATING_SCALE:
            errors.add(key, "Mức đánh giá phải từ 1 đến 5.")
            continue
        result[key] = int(text)
    errors.raise_if_any()
    return result


@dataclass(frozen=True)
class RatingSummary:
    """Ratings of one item: ``n`` answers, exact ``mean`` (``None`` with no answer), ``distribution``
    (rating 1–5 → count, every rating present), ``shares`` (rating → share of n)."""

    n: int
    mean: Decimal | None
    distribution: dict[int, int]

    @property
    def shares(self) -> dict[int, Decimal | None]:
        return {r: (_to_decimal(Fraction(c, self.n)) if self.n else None) for r, c in self.distribution.items()}


def rating_summary(values: Iterable[int | None]) -> RatingSummary:
    """Summarise one item's ratings (``None`` = not answered, skipped). A value outside 1–5 is a
    programming error (``ValueError``)."""
    distribution = {r: 0 for r in RATING_SCALE}
    answered: list[int] = []
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool) or value not in RATING_SCALE:
            raise ValueError(f"rating must be 1–5, got {value!r}")
        distribution[value] += 1
        answered.append(value)
    mean = _to_decimal(Fraction(sum(answered), len(answered))) if answered else None
    return RatingSummary(len(answered), mean, distribution)


def evaluation_results_visible(n_responses: int) -> bool:
    """Anonymity: results (and comments) are shown only from ``ANONYMITY_THRESHOLD`` responses on."""
    return n_responses >= ANONYMITY_THRESHOLD
