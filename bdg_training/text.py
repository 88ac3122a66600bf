"""Vietnamese text handling: normalisation, search keys, collation, legacy encodings.

Pure standard-library code (no Flask, no database). The rules follow DOMAIN.md §4.1, §4.2 and §4.7:

* Text is stored as entered, in Unicode NFC (TCVN 6909:2001). Nothing here rewrites a person's
  name or an official title; the keys below are for searching, de-duplicating and sorting only.
* :func:`fold` is the *search* key (no diacritics at all); :func:`tone_key` is the *duplicate*
  key (keeps every diacritic, only unifies old/new tone placement); :func:`sort_key` and
  :func:`name_sort_key` follow the CLDR/ICU ``vi`` standard collation, never code-point order.
* :func:`detect_legacy_encoding` / :func:`convert_legacy` handle text typed with the pre-Unicode
  TCVN3 (ABC, ``.VnTime``) and VNI (``VNI-Times``) fonts, and decomposed (NFD) Unicode.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "clean_text",
    "convert_legacy",
    "detect_legacy_encoding",
    "fold",
    "name_sort_key",
    "nfc",
    "sort_key",
    "tone_key",
]

# --- Characters --------------------------------------------------------------------------------

GRAVE = "\u0300"  # dấu huyền
HOOK = "\u0309"  # dấu hỏi
TILDE = "\u0303"  # dấu ngã
ACUTE = "\u0301"  # dấu sắc
DOT = "\u0323"  # dấu nặng
BREVE = "\u0306"  # ă
CIRCUMFLEX = "\u0302"  # â ê ô
HORN = "\u031b"  # ơ ư

# Tone marks with their rank in the ICU ``vi`` secondary order: ngang (no mark) = 0 <
# huyền < hỏi < ngã < sắc < nặng.
TONE_RANK = {GRAVE: 1, HOOK: 2, TILDE: 3, ACUTE: 4, DOT: 5}
_MODIFIERS = frozenset((BREVE, CIRCUMFLEX, HORN))

# Invisible characters that only cause trouble in names: bidi controls and zero-width chars.
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
_INVISIBLE = frozenset(_BIDI + _ZERO_WIDTH)
_SOFT_HYPHEN = "\u00ad"

_SPACES_RE = re.compile(r" {2,}")
_WHITESPACE_RE = re.compile(r"\s+")


# --- Normalisation -----------------------------------------------------------------------------


def nfc(s: str | None) -> str:
    """Return ``s`` in Unicode NFC ("dựng sẵn", TCVN 6909:2001).

    "ế" typed as ``e + U+0302 + U+0301`` (NFD, "tổ hợp") becomes U+1EBF. Nothing else changes:
    no stripping, and "hoà"/"hòa" stay different (tone placement is not a normalisation).
    ``None`` gives ``""``.
    """
    if s is None:
        return ""
    return unicodedata.normalize("NFC", s)


def clean_text(s: object, *, multiline: bool = False) -> str:
    """Clean one value typed or imported by a user, ready to store.

    Rules, in order:

    * ``None`` gives ``""``; other non-strings (spreadsheet numbers) go through ``str()``.
    * NFC (before and after cleaning, so a removed zero-width char cannot leave NFD behind).
    * Line breaks (``\\r\\n``, ``\\r``, U+0085, U+2028, U+2029) become ``\\n``; a ``\\n`` is kept only
      when ``multiline`` is true, otherwise it becomes a space (so "Nguyễn⏎Văn" keeps two words).
    * Other whitespace (tab, NBSP, any Unicode space) becomes a plain space.
    * NUL and every other control character (category Cc) is removed.
    * Bidi controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) and zero-width chars
      (U+200B–U+200D, U+2060, U+FEFF) are removed.
    * Runs of spaces collapse to one; each line and the whole text are stripped.

    The soft hyphen U+00AD is deliberately kept: it is the letter "ư" in TCVN3 text, so removing
    it would destroy legacy data before :func:`convert_legacy` sees it. :func:`fold` and
    :func:`tone_key` ignore it.
    """
    if s is None:
        return ""
    text = nfc(s if isinstance(s, str) else str(s))
    text = text.replace("\r\n", "\n")
    out = []
    for ch in text:
        if ch in "\n\r\x85\u2028\u2029":
            out.append("\n" if multiline else " ")
        elif ch in _INVISIBLE:
            continue
        elif ch.isspace():
            out.append(" ")
        elif unicodedata.category(ch) == "Cc":
            continue
        else:
            out.append(ch)
    lines = "".join(out).split("\n")
    lines = [_SPACES_RE.sub(" ", line).strip(" ") for line in lines]
    return nfc("\n".join(lines).strip())


def fold(s: str | None) -> str:
    """Search key: case-insensitive and diacritic-insensitive.

    NFC, casefold, strip every combining mark (tones, ă â ê ô ơ ư, and foreign accents),
    map đ/Đ to "d", drop soft hyphens and invisible characters, collapse whitespace.
    "Hoà", "hòa" and "HOA" all give "hoa"; "Nguyễn Thị Thuỷ" gives "nguyen thi thuy".
    Use only to *find* candidates: "Đoàn" and "Doãn" fold alike but are different names.
    """
    text = clean_text(s).replace(_SOFT_HYPHEN, "").casefold()
    text = unicodedata.normalize("NFD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("đ", "d")
    return unicodedata.normalize("NFC", _WHITESPACE_RE.sub(" ", text).strip())


# --- Vietnamese syllables ----------------------------------------------------------------------

_ALPHABET = frozenset("aăâbcdđeêghiklmnoôơpqrstuưvxy")
# Longest first, so "ngh" wins over "ng" and "gi"/"qu" over "g"/"q".
_INITIALS = (
    "ngh",
    "ch", "gh", "gi", "kh", "ng", "nh", "ph", "qu", "th", "tr",
    "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x",
    "",
)  # fmt: skip
_FINALS = ("ng", "nh", "ch", "c", "m", "n", "p", "t", "")
_STOP_FINALS = frozenset(("c", "ch", "p", "t"))
# Vowel nuclei (without tone) and whether a final consonant is required / forbidden.
_NUCLEI_NEED_FINAL = frozenset(("ă", "â", "iê", "yê", "uô", "ươ", "uâ", "oă", "uyê", "oo"))
_NUCLEI_NO_FINAL = frozenset((
    "ai", "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia", "iu", "oi", "ôi", "ơi", "ua", "ui",
    "uơ", "ưa", "ưi", "ưu", "iêu", "yêu", "oai", "oay", "oeo", "uây", "uôi", "ươi", "ươu",
    "uya", "uyu",
))  # fmt: skip
_NUCLEI_ANY = frozenset(("a", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "oa", "oe", "uê", "uy"))
_NUCLEI = _NUCLEI_NEED_FINAL | _NUCLEI_NO_FINAL | _NUCLEI_ANY


def _nucleus_ok(initial: str, nucleus: str, final: str) -> bool:
    if nucleus not in _NUCLEI:
        return False
    if nucleus in _NUCLEI_NEED_FINAL and not final:
        return False
    if nucleus in _NUCLEI_NO_FINAL and final:
        return False
    first = nucleus[0]
    # Orthography: k/gh/ngh only before i e ê (k also before y); c/g/ng never there.
    if initial == "k":
        return first in "ieêy"
    if initial in ("gh", "ngh"):
        return first in "ieê"
    if initial == "c":
        return first not in "ieêy"
    if initial in ("g", "ng"):
        return first not in "eê" and (initial == "g" or first != "i")
    if initial == "qu":
        return first not in "uưo"
    return True


def _parse_syllable(base: str) -> tuple[str, str, str] | None:
    """Split a toneless lowercase syllable into (initial, nucleus, final), or None."""
    if not base or not set(base) <= _ALPHABET:
        return None
    for initial in _INITIALS:
        if not base.startswith(initial):
            continue
        rest = base[len(initial) :]
        for final in _FINALS:
            if not rest.endswith(final):
                continue
            nucleus = rest[: len(rest) - len(final)]
            if _nucleus_ok(initial, nucleus, final):
                return initial, nucleus, final
    return None


def _split_tone(word: str) -> tuple[str, list[str]]:
    """Return (toneless NFC lowercase word, tone marks found)."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = [ch for ch in decomposed if ch in TONE_RANK]
    base = "".join(ch for ch in decomposed if ch not in TONE_RANK)
    return unicodedata.normalize("NFC", base), tones


def _is_syllable(word: str) -> bool:
    """True if ``word`` is a well-formed Vietnamese syllable (spelling, not dictionary).

    Checks the initial/nucleus/final structure, the c/k, g/gh, ng/ngh spelling rules, at most
    one tone mark, and that a syllable closed by c, ch, p or t carries sắc or nặng.
    """
    base, tones = _split_tone(word)
    if len(tones) > 1:
        return False
    parsed = _parse_syllable(base)
    if parsed is None:
        return False
    if parsed[2] in _STOP_FINALS and (not tones or tones[0] not in (ACUTE, DOT)):
        return False
    return True


def _tone_index(initial: str, nucleus: str, final: str) -> int:
    """Index (in the whole syllable) of the vowel that carries the tone, old style."""
    modified = [i for i, ch in enumerate(nucleus) if ch in "ăâêôơư"]
    if modified:
        k = modified[-1]  # ươ → ơ, uyê → ê, uô → ô
    elif final:
        k = len(nucleus) - 1  # hoàn, khuynh, toán
    elif len(nucleus) == 3:
        k = 1  # ngoài, khuỷu, ngoẹo
    else:
        k = 0  # old style: hòa, khỏe, thủy, của, mía; and single vowels
    return len(initial) + k


def _canonical_tone_word(match: re.Match[str]) -> str:
    word = match.group(0)
    base, tones = _split_tone(word)
    if len(tones) != 1:
        return word
    parsed = _parse_syllable(base)
    if parsed is None:
        return word
    i = _tone_index(*parsed)
    return unicodedata.normalize("NFC", base[:i] + base[i] + tones[0] + base[i + 1 :])


_WORD_RE = re.compile(r"\w+")


def tone_key(s: str | None) -> str:
    """Duplicate-check key: lowercase NFC with every diacritic kept, tone placement unified.

    Letters keep their marks (ă â ê ô ơ ư đ) and tones, so "Đoàn", "Doãn" and "Doan" stay three
    different keys. Only the *position* of the tone mark is normalised, per syllable:

    * canonical form = the **old style** ("kiểu cũ"), as in the Quốc hiệu "CỘNG HÒA": in an open
      syllable whose vowel group is exactly oa, oe or uy, the tone sits on the first vowel:
      "hoà" → "hòa", "khoẻ" → "khỏe", "thuỷ" → "thủy", "uỷ" → "ủy";
    * everywhere else both styles agree and the tone goes where Vietnamese spelling puts it:
      on the last of ă â ê ô ơ ư if any ("thuyền", "khuyến", "người", "giữa"), else on the last
      vowel when a final consonant follows ("hoàn", "huỳnh"), else on the middle one of three
      ("ngoài", "khuỷu") or the first of two ("của", "mía"). A misplaced tone such as "hóan"
      is moved too ("hoán").
    * "qu" and "gi" are initials: "quý", "quả", "giá" keep the tone on y/a.

    Words that are not Vietnamese syllables (loanwords, "H'Mông" parts, numbers) are only
    lowercased. Whitespace is cleaned as in :func:`clean_text`; soft hyphens are dropped.
    Use it to compare; display what the user typed.
    """
    text = clean_text(s).replace(_SOFT_HYPHEN, "").lower()
    return nfc(_WORD_RE.sub(_canonical_tone_word, text))


# --- Collation (CLDR/ICU ``vi``) ---------------------------------------------------------------

# Latin letters in Vietnamese order; f j w z keep their Latin (root) positions.
_LETTER_ORDER = "a ă â b c d đ e ê f g h i j k l m n o ô ơ p q r s t u ư v w x y z".split()
_SEPARATOR = 0  # between name parts: sorts before everything
_SPACE = 1
_PUNCT_BASE = 2  # + code point: all punctuation and symbols, before digits (ICU root)
_DIGIT_BASE = 0x200000
_LETTER_BASE = 0x300000
_OTHER_LETTER_BASE = 0x400000
_LETTER_WEIGHT = {letter: _LETTER_BASE + i for i, letter in enumerate(_LETTER_ORDER)}

SortKey = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]


def _collation_elements(s: str | None) -> list[tuple[int, int, int]]:
    """(primary, secondary, tertiary) weight for each character of the cleaned text."""
    elements = []
    for ch in clean_text(s).replace(_SOFT_HYPHEN, ""):
        lower = ch.lower()
        if len(lower) != 1:
            lower = ch
        tertiary = 1 if lower != ch else 0  # lowercase before uppercase, as in ICU
        decomposed = unicodedata.normalize("NFD", lower)
        letter, secondary = decomposed[0], 0
        if unicodedata.combining(letter):  # a mark with no base letter (text starting with one)
            elements.append((_PUNCT_BASE + ord(letter), 0, tertiary))
            continue
        for mark in decomposed[1:]:
            composed = unicodedata.normalize("NFC", letter + mark)
            if mark in _MODIFIERS and composed in _LETTER_WEIGHT:
                letter = composed  # ă â ê ô ơ ư are letters of their own (primary)
            elif mark in TONE_RANK:
                secondary = secondary * 10 + TONE_RANK[mark]
            else:  # foreign accents rank after the five tones
                secondary = secondary * 1000 + 100 + ord(mark) - 0x300
        if letter in _LETTER_WEIGHT:
            primary = _LETTER_WEIGHT[letter]
        elif letter.isdigit():
            primary = _DIGIT_BASE + unicodedata.digit(letter, 0)
        elif letter.isspace():
            primary = _SPACE
        elif letter.isalpha():
            primary = _OTHER_LETTER_BASE + ord(letter)
        else:
            primary = _PUNCT_BASE + ord(letter)
        elements.append((primary, secondary, tertiary))
    return elements


def _key(parts: list[list[tuple[int, int, int]]]) -> SortKey:
    primary: list[int] = []
    secondary: list[int] = []
    tertiary: list[int] = []
    for n, elements in enumerate(parts):
        if n:
            primary.append(_SEPARATOR)
            secondary.append(_SEPARATOR)
            tertiary.append(_SEPARATOR)
        for p, s2, t in elements:
            primary.append(p)
            secondary.append(s2)
            tertiary.append(t)
    return tuple(primary), tuple(secondary), tuple(tertiary)


def sort_key(s: str | None) -> SortKey:
    """Sort key for one string (unit names, course titles…) per the CLDR/ICU ``vi`` collation.

    * Primary level, letter order: a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y
      (f j w z in their Latin places), so "Đ…" sorts after every "D…" word and before "E",
      and "Ư…" after "U…". Before letters come spaces, then punctuation/symbols, then digits.
    * Secondary level, tones: ngang < huyền < hỏi < ngã < sắc < nặng (a < à < ả < ã < á < ạ);
      other accents (foreign names) after those.
    * Tertiary level: lowercase before uppercase.

    Like ICU, the whole string is compared at one level before the next is looked at: "Ba" <
    "bà" (tone beats case), and "Ánh Dương" < "Anh Thư" because the letters "anh dương" <
    "anh thư" decide before the tone on "Ánh" is looked at.
    Digits compare one by one (ICU default, no numeric ordering): "Lớp 10" < "Lớp 2".
    Text is cleaned first (:func:`clean_text`). Returns a tuple of three tuples of ints.
    """
    return _key([_collation_elements(s)])


def name_sort_key(given: str | None, middle: str | None, family: str | None) -> SortKey:
    """Sort key for a class list: tên (given) → tên đệm (middle) → họ (family), ICU ``vi``.

    The three parts are joined with a separator that sorts before any character and compared
    as one string, level by level (as ICU does): first the letters of all three parts, then the
    tones of all three, then case. So "Trần Thị Ánh" comes before "Phan Văn Anh" (same letters
    "anh", then middle "thi" < "van") even though "Anh" < "Ánh" by tone; the tone only decides
    when every part has the same letters. An empty middle name sorts before any middle name.
    ``None`` counts as empty.
    """
    return _key([_collation_elements(given), _collation_elements(middle), _collation_elements(family)])


# --- Legacy encodings --------------------------------------------------------------------------

# TCVN 5712:1993 "VN3" (ABC fonts such as .VnTime), as read through Latin-1/cp1252. Only the
# VN3 subset is mapped: lowercase toned vowels and the 7 capitals Ă Â Ê Ô Ơ Ư Đ. Toned capitals
# do not exist in VN3 (people used the all-caps .VnTimeH font with the lowercase codes), and the
# VN1 extras (0xC0–0xC5, 0xCD, 0xD9–0xDB, 0xE0, 0xF0, 0xFF, combining 0xB0–0xB4) are left alone.
# Checked against glibc's TCVN5712-1 table, which agrees on every byte mapped here.
_TCVN3 = dict(
    zip(
        "¡¢£¤¥¦§¨©ª«¬\u00ad®"
        "µ¶·¸¹" "»¼½¾Æ" "ÇÈÉÊË"
        "ÌÎÏÐÑ" "ÒÓÔÕÖ" "×ØÜÝÞ"
        "ßáâãä" "åæçèé" "êëìíî"
        "ïñòóô" "õö÷øù" "úûüýþ",
        "ĂÂÊÔƠƯĐăâêôơưđ"
        "àảãáạ" "ằẳẵắặ" "ầẩẫấậ"
        "èẻẽéẹ" "ềểễếệ" "ìỉĩíị"
        "òỏõóọ" "ồổỗốộ" "ờởỡớợ"
        "ùủũúụ" "ừửữứự" "ỳỷỹýỵ",
        strict=True,
    )
)  # fmt: skip
_TCVN3_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ¡¢£¤¥¦§")
_TCVN3_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz¨©ª«¬\u00ad®")

# VNI (VNI-Windows / VNI-Times): a base letter followed by a mark character. Checked against a
# published VNI ↔ Unicode table: all 134 Vietnamese letters (both cases) convert correctly.
_VNI_LETTERS = dict(zip("ôÔöÖñÑæÆóÓòÒîÎ", "ơƠưƯđĐỉỈĩĨịỊỵỴ", strict=True))
_VNI_TONE = dict(zip("øùûõïØÙÛÕÏ", (GRAVE, ACUTE, HOOK, TILDE, DOT) * 2, strict=True))
_VNI_CIRCUMFLEX = dict(zip("âàáåãäÂÀÁÅÃÄ", ("", GRAVE, ACUTE, HOOK, TILDE, DOT) * 2, strict=True))
_VNI_BREVE = dict(zip("êèéúüëÊÈÉÚÜË", ("", GRAVE, ACUTE, HOOK, TILDE, DOT) * 2, strict=True))

# Characters a legacy file read through cp1252 may contain besides Latin-1.
_CP1252_EXTRA = frozenset("€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ")
_TOKEN_CHARS = frozenset(_TCVN3) | frozenset(_VNI_LETTERS)


def _tcvn3_all_caps(word: str) -> bool:
    """Two or more unambiguous TCVN3 capitals and no unambiguous lowercase letter."""
    return sum(ch in _TCVN3_UPPER for ch in word) >= 2 and not any(ch in _TCVN3_LOWER for ch in word)


def _tcvn3_to_unicode(s: str) -> str:
    # .VnTime has no toned capitals, so all-caps text mixes capitals with lowercase toned codes
    # ("NGUYÔN" = "NGUYễN"). A word with two or more unambiguous capitals and no unambiguous
    # lowercase letter is upper-cased; if the text has such a word and no lowercase letter at
    # all, the whole text is ("§ç V¡N" → "ĐỖ VĂN"). "Cê §á" (one capital per word) stays "Cờ Đỏ".
    converted = "".join(_TCVN3.get(ch, ch) for ch in s)
    if not any(_tcvn3_all_caps(word) for word in s.split()):
        return nfc(converted)
    if not any(ch in _TCVN3_LOWER for ch in s):
        return nfc(converted.upper())
    # The mapping is one character to one character, so the words line up.
    pieces = zip(re.split(r"(\s+)", s), re.split(r"(\s+)", converted), strict=True)
    return nfc("".join(conv.upper() if _tcvn3_all_caps(orig) else conv for orig, conv in pieces))


def _vni_to_unicode(s: str) -> str:
    out: list[str] = []
    for ch in s:
        if ch in _VNI_LETTERS:
            out.append(_VNI_LETTERS[ch])
            continue
        if out:
            prev = unicodedata.normalize("NFD", out[-1])
            base, marks = prev[0], prev[1:]
            vowel = base.lower()
            if ch in _VNI_TONE and vowel in "aeiouy" and not any(m in TONE_RANK for m in marks):
                out[-1] = prev + _VNI_TONE[ch]
                continue
            if ch in _VNI_CIRCUMFLEX and vowel in "aeo" and not marks:
                out[-1] = base + CIRCUMFLEX + _VNI_CIRCUMFLEX[ch]
                continue
            if ch in _VNI_BREVE and vowel == "a" and not marks:
                out[-1] = base + BREVE + _VNI_BREVE[ch]
                continue
        out.append(ch)
    return nfc("".join(out))


_CONVERTERS = {"tcvn3": _tcvn3_to_unicode, "vni": _vni_to_unicode}


def _legacy_evidence(tokens: list[str], encoding: str) -> tuple[int, int]:
    """(for, against): words that become / stop being Vietnamese syllables when converted."""
    convert = _CONVERTERS[encoding]
    evidence_for = evidence_against = 0
    for token in tokens:
        if len(token) < 2 or token.isascii():
            continue
        converted = convert(token)
        if converted == token:
            continue
        before, after = _is_syllable(token), _is_syllable(converted)
        if after and not before:
            evidence_for += 1
        elif before and not after:
            evidence_against += 1
    return evidence_for, evidence_against


def detect_legacy_encoding(s: str | None) -> str | None:
    """Guess whether ``s`` is decomposed Unicode or legacy TCVN3/VNI text.

    Returns ``"nfd"``, ``"tcvn3"``, ``"vni"`` or ``None`` (normal NFC Unicode, plain ASCII, empty):

    * ``"nfd"``: the text is not NFC and contains combining marks ("tổ hợp" input).
    * Legacy fonts store Vietnamese in Latin-1 code points, so a text with any character
      outside Latin-1 (apart from cp1252 punctuation such as “ ” – …) — ơ, ư, ă, đ, ạ, ế … — is
      Unicode and never flagged; nor is a text without any non-ASCII character.
    * Otherwise each word (letters plus TCVN3's symbol-looking codes such as ¸ µ § «) is
      converted both ways. A word that is *not* a well-formed Vietnamese syllable before and *is*
      one after counts for that encoding ("NguyÔn" → "Nguyễn", "Caàn" → "Cần"); the reverse
      counts against it ("Châu" read as TCVN3 gives "Chõu"). Words that are fine both ways
      ("Hoà", "Bình", "Tây") prove nothing; one-character words are ignored ("©", "×").
      An encoding is reported when it has at least one word for it and at least twice as many
      for as against; the one with the larger margin wins (TCVN3 on a tie).

    Limits: a single short word can be ambiguous ("5 µm" reads as TCVN3 "5 àm"); all-caps
    TCVN3 (.VnTimeH) is detected like lowercase. Run it on the raw value, before
    :func:`clean_text`, because TCVN3 "ư" is the soft hyphen.
    """
    if not s:
        return None
    if unicodedata.normalize("NFC", s) != s and any(unicodedata.combining(ch) for ch in s):
        return "nfd"
    if s.isascii():
        return None
    if any(ord(ch) > 0xFF and ch not in _CP1252_EXTRA for ch in s):
        return None
    tokens = re.findall(r"(?:[^\W\d_]|[" + re.escape("".join(sorted(_TOKEN_CHARS))) + r"])+", s)
    best: tuple[int, int, str] | None = None
    for encoding in ("tcvn3", "vni"):
        evidence_for, evidence_against = _legacy_evidence(tokens, encoding)
        if evidence_for >= 1 and evidence_for >= 2 * evidence_against:
            candidate = (evidence_for - evidence_against, evidence_for, encoding)
            if best is None or candidate[:2] > best[:2]:
                best = candidate
    return best[2] if best else None


def convert_legacy(s: str | None, encoding: str | None) -> str:
    """Convert text in ``encoding`` to NFC Unicode.

    * ``"tcvn3"``: TCVN 5712 VN3 (ABC, .VnTime) read as Latin-1: "NguyÔn ThÞ Hoa" → "Nguyễn Thị
      Hoa", "Cê §á" → "Cờ Đỏ". Every code is mapped one to one. VN3 has no toned capitals, so
      all-caps words are upper-cased by the rule in the code ("NGUYÔN" → "NGUYỄN"); a single
      capital word such as "§¸" stays "Đá" (it may have been "ĐÁ" in .VnTimeH: unknowable).
    * ``"vni"``: VNI-Windows: "Nguyeãn Thò Hoa" → "Nguyễn Thị Hoa", "Caàn Thô" → "Cần Thơ".
      Mark characters after a vowel combine with it (ø huyền, ù sắc, û hỏi, õ ngã, ï nặng;
      â/ê circumflex/breve, à á å ã ä circumflex+tone, è é ú ü ë breve+tone, and their
      capitals); ô ö ñ æ ó ò î are the single letters ơ ư đ ỉ ĩ ị ỵ. A mark that does not follow
      a suitable vowel is left as it is.
    * ``"nfd"`` or ``None``: just NFC.

    Raises ``ValueError`` for any other encoding name.
    """
    if s is None:
        return ""
    if encoding in (None, "nfd"):
        return nfc(s)
    try:
        convert = _CONVERTERS[encoding]
    except KeyError:
        raise ValueError(f"Bảng mã không được hỗ trợ: {encoding!r}") from None
    return convert(s)
