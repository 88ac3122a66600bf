"""The 54 ethnic groups of Việt Nam (dân tộc), as data (DOMAIN.md §4.6).

Codes follow the GSO code list of QĐ 121-TCTK/PPCĐ (02/3/1979), identified as
``CODE_LIST = "TCTK-1979"``. Store every code together with that identifier: the 2008 list
(QĐ 1019/QĐ-TCTK) uses *different* codes for the same groups (04 is Hoa in 1979 but Mường in
2008), so codes from the two lists must never be mixed.

Verification status: codes **01–11** (Kinh … Ngái) were checked against the source. Codes
12–54 are assigned by following the order in which the 1979 list names the groups (as
transcribed in DOMAIN.md); they **must be verified against the official text before official
use** (reports to the statistics office, data exchange).

Each record has one canonical display spelling and search aliases (spellings vary between
sources: Khơ-me / Khmer / Khơ Me; Cơ Lao / Co Lao; Rơ-măm / Rơ Măm …). Matching
(:func:`find_ethnicity`) ignores case, diacritics, spaces, hyphens and apostrophes, so
"khome", "Khơ Me" and "KHƠ-ME" all find Khơ-me.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from bdg_training.text import fold

__all__ = [
    "CODE_LIST",
    "ETHNICITIES",
    "ETHNICITY_CHOICES",
    "Ethnicity",
    "ethnicity_by_code",
    "find_ethnicity",
    "match_key",
]

CODE_LIST = "TCTK-1979"


class Ethnicity(NamedTuple):
    """One ethnic group: ``code`` in :data:`CODE_LIST`, display ``name``, search ``aliases``."""

    code: str
    name: str
    aliases: tuple[str, ...]


# (display name, aliases) in the order of the 1979 list; the code is the position, 01–54.
_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Kinh", ("Việt", "Kinh (Việt)")),
    ("Tày", ()),
    ("Thái", ()),
    ("Hoa", ("Hán", "Người Hoa")),
    ("Khơ-me", ("Khmer", "Khơ Me", "Khơ me", "Khơme", "Khmer Krom", "Khơ-me Krôm")),
    ("Mường", ()),
    ("Nùng", ()),
    ("Hmông (Mông)", ("Mông", "H'mông", "H'Mông", "Hmông", "Hmong")),
    ("Dao", ()),
    ("Gia-rai", ("Gia Rai", "Jarai", "Giarai")),
    ("Ngái", ()),
    ("Ê-đê", ("Ê Đê", "Êđê", "Ede", "Rhade")),
    ("Ba-na", ("Ba Na", "Bahnar")),
    ("Xơ-đăng", ("Xơ Đăng", "Sedang")),
    ("Sán Chay", ("Sán Chỉ", "Cao Lan", "Cao Lan-Sán Chỉ")),
    ("Cơ-ho", ("Cơ Ho", "K'ho", "Koho")),
    ("Chăm", ("Chàm", "Cham")),
    ("Sán Dìu", ()),
    ("Hrê", ("H'rê", "Hre")),
    ("Mnông", ("M'nông",)),
    ("Ra-glai", ("Ra Glai", "Raglai")),
    ("Xtiêng", ("X'tiêng", "Stiêng")),
    ("Bru-Vân Kiều", ("Bru - Vân Kiều", "Vân Kiều", "Bru")),
    ("Thổ", ()),
    ("Giáy", ()),
    ("Cơ-tu", ("Cơ Tu", "Katu")),
    ("Gié-Triêng", ("Gié Triêng", "Giẻ-Triêng", "Giẻ Triêng")),
    ("Mạ", ()),
    ("Khơ-mú", ("Khơ Mú", "Khmu")),
    ("Co", ("Cor",)),
    ("Ta-ôi", ("Tà Ôi", "Tà-ôi", "Ta Ôi")),
    ("Chơ-ro", ("Chơ Ro", "Châu Ro")),
    ("Kháng", ()),
    ("Xinh-mun", ("Xinh Mun",)),
    ("Hà Nhì", ()),
    ("Chu-ru", ("Chu Ru", "Churu")),
    ("Lào", ("Lao",)),
    ("La Chí", ()),
    ("La Ha", ()),
    ("Phù Lá", ()),
    ("La Hủ", ()),
    ("Lự", ("Lữ",)),
    ("Lô Lô", ()),
    ("Chứt", ()),
    ("Mảng", ()),
    ("Pà Thẻn", ("Pà Hưng",)),
    ("Cơ Lao", ("Co Lao", "Cờ Lao")),
    ("Cống", ()),
    ("Bố Y", ("Bố-y",)),
    ("Si La", ()),
    ("Pu Péo", ()),
    ("Brâu", ("Brao",)),
    ("Ơ-đu", ("Ơ Đu",)),
    ("Rơ-măm", ("Rơ Măm",)),
)

ETHNICITIES: tuple[Ethnicity, ...] = tuple(Ethnicity(f"{n:02d}", name, aliases) for n, (name, aliases) in enumerate(_GROUPS, start=1))
ETHNICITY_CHOICES: list[tuple[str, str]] = [(e.code, e.name) for e in ETHNICITIES]

_IGNORED_RE = re.compile(r"[\s\-‐‑–—'’ʼ`]+")


def match_key(text: str | None) -> str:
    """Matching key: :func:`~bdg_training.text.fold`, then spaces, hyphens, apostrophes removed.

    "Khơ-me", "Khơ Me" and "khome" all give "khome"; "H'Mông" gives "hmong".
    """
    return _IGNORED_RE.sub("", fold(text))


_BY_KEY: dict[str, Ethnicity] = {}
for _record in ETHNICITIES:
    for _spelling in (_record.name, *_record.aliases):
        _BY_KEY.setdefault(match_key(_spelling), _record)
_BY_CODE = {e.code: e for e in ETHNICITIES}


def find_ethnicity(text: str | None) -> Ethnicity | None:
    """The group whose name or an alias matches ``text``, or ``None``.

    Matching compares :func:`match_key` values, so it ignores case, diacritics, spaces, hyphens
    and apostrophes ("khmer", "Khơ Me", "HMÔNG", "Ê Đê", "Vân Kiều" are found). It does not
    guess: partial words ("Gia" for Gia-rai) and codes ("05") give ``None``; use
    :func:`ethnicity_by_code` for codes. Prefixes such as "dân tộc" are stripped first.
    """
    key = match_key(text)
    if key.startswith("dantoc") and len(key) > len("dantoc"):
        key = key[len("dantoc") :]
    return _BY_KEY.get(key) if key else None


def ethnicity_by_code(code: str | None) -> Ethnicity | None:
    """The group with this :data:`CODE_LIST` code ("01"–"54"; "5" is read as "05"), or ``None``."""
    if not code:
        return None
    code = code.strip()
    if code.isdigit() and len(code) == 1:
        code = "0" + code
    return _BY_CODE.get(code)
