"""Tests for bdg_training.text: normalisation, search/duplicate keys, vi collation, legacy text."""

import unicodedata

import pytest

from bdg_training.text import (
    clean_text,
    convert_legacy,
    detect_legacy_encoding,
    fold,
    name_sort_key,
    nfc,
    sort_key,
    tone_key,
)


def nfd(s: str) -> str:
    return unicodedata.normalize("NFD", s)


# --- nfc / clean_text ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (nfd("Nguyễn Thị Ánh"), "Nguyễn Thị Ánh"),
        ("e\u0302\u0301", "\u1ebf"),  # ế typed "tổ hợp"
        ("  hoà  ", "  hoà  "),  # no stripping, no tone rewrite
        (None, ""),
    ],
)
def test_nfc(raw, expected):
    assert nfc(raw) == expected


def test_nfc_keeps_both_tone_placements_distinct():
    assert nfc("hoà") != nfc("hòa")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ""),
        ("", ""),
        ("   ", ""),
        ("  Nguyễn   Văn  An ", "Nguyễn Văn An"),
        (nfd("Trần Thị Ngọc Ánh"), "Trần Thị Ngọc Ánh"),
        ("Lê\x00 Văn\x07 Tám\x1b", "Lê Văn Tám"),
        ("Lê\tVăn\u00a0Tám", "Lê Văn Tám"),
        ("Lê\nVăn\r\nTám", "Lê Văn Tám"),  # single line: line breaks become spaces
        ("\u200fHoa\u200e", "Hoa"),
        ("\u202eHoa\u202c \u2066Lan\u2069", "Hoa Lan"),
        ("Ho\u200ba \ufeffLan\u200d", "Hoa Lan"),
        ("e\u200b\u0302\u0301", "\u1ebf"),  # NFC again after removing the zero-width space
        ("Phường\u2003Cái\u3000Khế", "Phường Cái Khế"),
        ("Tr\u00adêng", "Tr\u00adêng"),  # soft hyphen = TCVN3 "ư": kept
        (2026, "2026"),
    ],
)
def test_clean_text(raw, expected):
    assert clean_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Dòng 1\nDòng 2", "Dòng 1\nDòng 2"),
        ("Dòng 1\r\nDòng 2\rDòng 3", "Dòng 1\nDòng 2\nDòng 3"),
        ("  a   b  \n   c  \n\n", "a b\nc"),
        ("Một\u2028Hai", "Một\nHai"),
        ("x\x00\ny\x7f", "x\ny"),
        ("\u200f\n  Nội dung  \n", "Nội dung"),
    ],
)
def test_clean_text_multiline(raw, expected):
    assert clean_text(raw, multiline=True) == expected


# --- fold -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hoà", "hoa"),
        ("hòa", "hoa"),
        ("HOA", "hoa"),
        ("Nguyễn Thị Thuỷ", "nguyen thi thuy"),
        ("nguyen thi thuy", "nguyen thi thuy"),
        ("Đoàn", "doan"),
        ("đỗ ĐỨC", "do duc"),
        ("Ưng  Hoàng\tPhúc", "ung hoang phuc"),
        (nfd("Trương Mỹ Lan"), "truong my lan"),
        ("Phường Cái Khế ", "phuong cai khe"),
        ("Tr\u00adêng", "treng"),
        ("Khơ-me", "kho-me"),
        ("Müller", "muller"),
        ("", ""),
        (None, ""),
    ],
)
def test_fold(raw, expected):
    assert fold(raw) == expected


def test_fold_matches_across_tone_placement_case_and_diacritics():
    assert fold("Nguyễn Thị Thuỷ") == fold("nguyen thi thuy") == fold("NGUYỄN THỊ THỦY")


# --- tone_key -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("hoà", "hòa"),
        ("thuỷ", "thủy"),
        ("quý hoá", "quý hóa"),
        ("khoẻ", "khỏe"),
        ("Uỷ ban", "ủy ban"),
        ("CỘNG HOÀ", "Cộng hòa"),
        ("Nguyễn Thị Thuỷ", "nguyễn  thị thủy"),
        ("Luật Thuỷ sản", "Luật Thủy sản"),
        ("xoè", "xòe"),
        ("hóan", "hoán"),  # misplaced tone, same syllable
        (nfd("Hoà"), "hòa"),
    ],
)
def test_tone_key_equal(a, b):
    assert tone_key(a) == tone_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Đoàn", "Doãn"),
        ("Đoàn", "Doan"),
        ("Doãn", "Doan"),
        ("hòa", "hoa"),
        ("hòa", "hóa"),
        ("Thủy", "Thúy"),
        ("Ân", "An"),
        ("Ưng", "Ung"),
    ],
)
def test_tone_key_different(a, b):
    assert tone_key(a) != tone_key(b)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # canonical = old style for open oa / oe / uy
        ("hoà", "hòa"),
        ("Hoá", "hóa"),
        ("khoẻ", "khỏe"),
        ("thuỷ", "thủy"),
        ("Thuý", "thúy"),
        ("uỷ", "ủy"),
        ("loè", "lòe"),
        # both styles agree: untouched
        ("hoàn", "hoàn"),
        ("khuyến", "khuyến"),
        ("quý", "quý"),
        ("quỳnh", "quỳnh"),
        ("thuyền", "thuyền"),
        ("huỳnh", "huỳnh"),
        ("của", "của"),
        ("giữa", "giữa"),
        ("già", "già"),
        ("gìn", "gìn"),
        ("quả", "quả"),
        ("người", "người"),
        ("ngoài", "ngoài"),
        ("khuỷu", "khuỷu"),
        ("thuở", "thuở"),
        ("huệ", "huệ"),
        ("toán", "toán"),
        ("mía", "mía"),
        # not Vietnamese syllables: only lowercased
        ("H'Mông", "h'mông"),
        ("Müller", "müller"),
        ("  ĐOÀN   VĂN  HOÀ ", "đoàn văn hòa"),
        (None, ""),
    ],
)
def test_tone_key_value(raw, expected):
    assert tone_key(raw) == expected


def test_tone_key_is_nfc():
    key = tone_key(nfd("Nguyễn Thị Thuỷ"))
    assert key == unicodedata.normalize("NFC", key) == "nguyễn thị thủy"


# --- collation ------------------------------------------------------------------------------------


def test_tone_order_is_icu_vi():
    assert sorted(["ạ", "á", "ã", "ả", "à", "a"], key=sort_key) == ["a", "à", "ả", "ã", "á", "ạ"]


@pytest.mark.parametrize(
    ("smaller", "larger"),
    [
        ("Dz", "Đa"),  # Đ after every D… word
        ("Dương", "Đào"),
        ("Dũng", "Đức"),
        ("Đức", "Em"),  # … and before E
        ("Uyên", "Ưng"),  # Ư after U
        ("Uy", "Ư"),
        ("Ưng", "Vân"),
        ("Anh", "Ăn"),  # a < ă < â
        ("Ăn", "Ân"),
        ("Ân", "Ba"),
        ("Ê", "Gấm"),
        ("Oanh", "Ôn"),  # o < ô < ơ
        ("Ôn", "Ơn"),
        ("Ơn", "Phúc"),
        ("Yến", "Zoe"),
        ("An", "Anh"),
        ("a", "A"),  # case is tertiary: lowercase first
        ("Ba", "bà"),  # tone (secondary) beats case (tertiary)
        ("hoà", "hòa"),  # secondaries compared left to right
        ("Anh", "Ánh"),
        ("Ánh Dương", "Anh Thư"),  # letters first across the whole string
        ("Lê Văn", "Lê-Văn"),  # space < punctuation
        ("Lớp 10", "Lớp 2"),  # digits one by one, as ICU
        ("Phường 2", "Phường An Bình"),  # digits before letters
    ],
)
def test_sort_key_pairs(smaller, larger):
    assert sort_key(smaller) < sort_key(larger)


def test_sort_key_ignores_code_point_order():
    # Code points would put Đ (U+0110) and Ư (U+01AF) after Z.
    names = ["Zoe", "Ưng", "Đức", "Uyên", "Dũng", "Em", "Vân"]
    assert sorted(names) != sorted(names, key=sort_key)
    assert sorted(names, key=sort_key) == ["Dũng", "Đức", "Em", "Uyên", "Ưng", "Vân", "Zoe"]


def test_sort_key_cleans_and_normalises():
    assert sort_key(nfd(" Hoà  Bình ")) == sort_key("Hoà Bình")


def test_sort_key_unit_names():
    units = [
        "Phường Ninh Kiều",
        "Phường Cái Khế",
        "Phường Ô Môn",
        "Phường Bình Thủy",
        "Phường Thới An Đông",
        "Phường Cái Răng",
        "Xã Cờ Đỏ",
        "Xã Phong Điền",
        "Phường Tân An",
        "Xã Thới Lai",
        "Phường Hưng Phú",
        "Xã Vĩnh Thạnh",
        "Phường An Bình",
    ]
    assert sorted(units, key=sort_key) == [
        "Phường An Bình",
        "Phường Bình Thủy",
        "Phường Cái Khế",
        "Phường Cái Răng",
        "Phường Hưng Phú",
        "Phường Ninh Kiều",
        "Phường Ô Môn",
        "Phường Tân An",
        "Phường Thới An Đông",
        "Xã Cờ Đỏ",
        "Xã Phong Điền",
        "Xã Thới Lai",
        "Xã Vĩnh Thạnh",
    ]


CLASS_LIST = [
    # (family, middle, given)
    ("Nguyễn", "Văn", "An"),
    ("Trần", "Thị", "Ánh"),
    ("Lê", "Văn", "Ân"),
    ("Phạm", "Thị", "Bình"),
    ("Hoàng", "Văn", "Dũng"),
    ("Đặng", "Minh", "Đức"),
    ("Võ", "Thị", "Em"),
    ("Bùi", "Thị", "Hoà"),
    ("Ngô", "Văn", "Hòa"),
    ("Lý", "Thị", "Uyên"),
    ("Đỗ", "Văn", "Ưng"),
    ("Nguyễn", "Thị", "An"),
    ("Trần", "", "An"),
    ("Phan", "Văn", "Anh"),
    ("Dương", "Thị", "Dung"),
    ("Hà", "Thị", "Thu"),
    ("Trịnh", "Văn", "Thư"),
    ("Đinh", "Thị", "Thư"),
    ("Lâm", "Thị Ngọc", "Yến"),
    ("Thạch", "Thị", "Sa Rươne"),
]


def test_class_list_sorted_by_given_middle_family():
    ordered = sorted(CLASS_LIST, key=lambda p: name_sort_key(p[2], p[1], p[0]))
    assert [" ".join(filter(None, p)) for p in ordered] == [
        "Trần An",  # empty middle name first
        "Nguyễn Thị An",  # same given name: by middle name
        "Nguyễn Văn An",
        "Trần Thị Ánh",  # letters "anh" tie with Phan Văn Anh: middle Thị < Văn decides
        "Phan Văn Anh",
        "Lê Văn Ân",  # â after a
        "Phạm Thị Bình",
        "Dương Thị Dung",
        "Hoàng Văn Dũng",
        "Đặng Minh Đức",  # Đ after D
        "Võ Thị Em",
        "Bùi Thị Hoà",  # Hoà/Hòa: same letters, middle name decides
        "Ngô Văn Hòa",
        "Thạch Thị Sa Rươne",
        "Hà Thị Thu",
        "Đinh Thị Thư",  # ư after u; same given+middle: family Đinh < Trịnh
        "Trịnh Văn Thư",
        "Lý Thị Uyên",
        "Đỗ Văn Ưng",  # Ư after U
        "Lâm Thị Ngọc Yến",
    ]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # same letters everywhere: the tone decides (secondary), before case
        (("Hoà", "Thị", "Nguyễn"), ("Hòa", "Thị", "Nguyễn")),
        (("An", "Văn", "Lê"), ("Án", "Văn", "Lê")),
        (("an", "văn", "lê"), ("An", "Văn", "Lê")),
        # letters of the family name beat a tone difference in the given name
        (("Ánh", "Thị", "Bùi"), ("Anh", "Thị", "Lê")),
        # family name is the last resort
        (("Thư", "Thị", "Đinh"), ("Thư", "Thị", "Trịnh")),
        (("Em", None, "Võ"), ("Em", "Thị", "Võ")),
    ],
)
def test_name_sort_key_levels(first, second):
    assert name_sort_key(*first) < name_sort_key(*second)


def test_name_sort_key_is_not_full_name_order():
    # By full name "Nguyễn Văn Bình" < "Trần Văn An"; by given name, An comes first.
    assert name_sort_key("An", "Văn", "Trần") < name_sort_key("Bình", "Văn", "Nguyễn")


# --- legacy encodings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "encoding", "converted"),
    [
        ("NguyÔn ThÞ Hoa", "tcvn3", "Nguyễn Thị Hoa"),
        ("Cê §á", "tcvn3", "Cờ Đỏ"),
        ("CÇn Th¬", "tcvn3", "Cần Thơ"),
        ("Tr\u00adêng §¹i häc CÇn Th¬", "tcvn3", "Trường Đại học Cần Thơ"),
        ("B×nh ®¼ng giíi", "tcvn3", "Bình đẳng giới"),
        ("Hµ Néi", "tcvn3", "Hà Nội"),
        ("B¶o Th¾ng", "tcvn3", "Bảo Thắng"),
        ("NGUYÔN THÞ HOA", "tcvn3", "NGUYỄN THỊ HOA"),  # .VnTime has no toned capitals
        ("§ç V¡N H¦NG", "tcvn3", "ĐỖ VĂN HƯNG"),
        ("Nguyeãn Thò Hoa", "vni", "Nguyễn Thị Hoa"),
        ("Caàn Thô", "vni", "Cần Thơ"),
        ("Ñoû", "vni", "Đỏ"),
        ("Xin chaøo caùc baïn", "vni", "Xin chào các bạn"),
        ("Ñoã Vaên Ñöùc", "vni", "Đỗ Văn Đức"),
        ("ÑOÃ VAÊN ÑÖÙC", "vni", "ĐỖ VĂN ĐỨC"),
        ("Bình ñaúng giôùi", "vni", "Bình đẳng giới"),
        ("Tröôøng Ñaïi hoïc", "vni", "Trường Đại học"),
        (nfd("Nguyễn Thị Hoa"), "nfd", "Nguyễn Thị Hoa"),
        (nfd("Cần Thơ"), "nfd", "Cần Thơ"),
    ],
)
def test_detect_and_convert_legacy(raw, encoding, converted):
    assert detect_legacy_encoding(raw) == encoding
    assert convert_legacy(raw, encoding) == converted
    assert unicodedata.is_normalized("NFC", convert_legacy(raw, encoding))


@pytest.mark.parametrize(
    ("raw", "encoding", "converted"),
    [
        ("§¸", "tcvn3", "Đá"),  # one capital: could be "ĐÁ" in .VnTimeH, left as title case
        ("Cê §á", "tcvn3", "Cờ Đỏ"),
        ("Hoa", "tcvn3", "Hoa"),
        ("ÑOÛ", "vni", "ĐỎ"),
        ("Hoa", "vni", "Hoa"),
        ("5 ø", "vni", "5 ø"),  # a mark with no vowel before it is left alone
        ("Cần Thơ", None, "Cần Thơ"),
        (nfd("Cần Thơ"), None, "Cần Thơ"),
        (None, "vni", ""),
    ],
)
def test_convert_legacy(raw, encoding, converted):
    assert convert_legacy(raw, encoding) == converted


def test_convert_legacy_rejects_unknown_encoding():
    with pytest.raises(ValueError, match="Bảng mã không được hỗ trợ"):
        convert_legacy("abc", "viqr")


NORMAL_TEXT = [
    "",
    "Nguyen Van An",
    "NGUYEN THI HOA",
    "Nguyễn Thị Hoa",
    "Cần Thơ",
    "Trần Thị Ngọc Ánh",
    "Đoàn Văn Hòa",
    "Lê Thị Thuỷ",
    "Hoà Bình",  # all Latin-1 but genuine Unicode
    "Tây Ninh",
    "Châu Thành",
    "Ô Môn",
    "Thái Bình",
    "Tân An",
    "Cà Mau",
    "Trà Ôn",
    "Tô Ánh",
    "Ông Bà",
    "HÒA BÌNH",
    "CÔNG TY",
    "Phú Yên",
    "Hà Tiên",
    "Sóc Trăng",
    "Phường Ninh Kiều, thành phố Cần Thơ",
    "Sở Nội vụ thành phố Cần Thơ",
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "Bình đẳng giới trong gia đình",
    "Số: 05/2026/GCN-SNV",
    "Thạch Thị Sa Rươne",
    "Danh Út",
    "Chau Sóc Khê",
    "Y Hoà Niê",
    "H'Hen Niê",
    "Ksor Y Đôn",
    "Giàng A Dình",
    "Lò Văn Páo",
    "Ngô Bảo Châu",
    "José Müller",
    "Françoise Noël",
    "Björk Sørensen",
    "Crème brûlée",
    "Copyright © 2026",
    "«Bình đẳng giới»",
    "20°C, 1×2, ½ ngày",
    "email: hoa.nguyen@cantho.gov.vn",
    "+84 912 345 678",
    "12/03/2026",
]


@pytest.mark.parametrize("raw", NORMAL_TEXT)
def test_no_false_legacy_detection(raw):
    assert detect_legacy_encoding(raw) is None


def test_detection_survives_none():
    assert detect_legacy_encoding(None) is None
