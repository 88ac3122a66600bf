"""The default (Vietnamese) text of every notification, and the sample data of the preview.

Pure data. An admin's edited version lives in ``NotificationTemplate``; "Khôi phục mặc định"
deletes it and these come back. Templates are Jinja, rendered in a sandbox as *plain text*
(no HTML): ``{{ course.title }}``, ``{% for s in course.sessions %}…{% endfor %}``,
``{% if reason %}…{% endif %}``. A line holding only a ``{% … %}`` tag leaves no line in the
mail (``trim_blocks``/``lstrip_blocks``), so admins can write tags on their own lines.
"""

from __future__ import annotations

from bdg_training.notifications import rules

_SIGNATURE = """
Trân trọng,
{{ site.name }}
{{ site.url }}
"""
_OPTIONAL_FOOTER = """
--
Không muốn nhận loại thư này? Tắt tại: {{ links.preferences }}
"""
_SESSIONS = """Địa điểm: {{ course.venue }}
Lịch học:
{% for s in course.sessions %}
  - {{ s.line }}
{% else %}
  (đơn vị tổ chức sẽ thông báo lịch cụ thể)
{% endfor %}
"""

DEFAULT_TEMPLATES: dict[str, tuple[str, str]] = {
    rules.REGISTRATION_RECEIVED: (
        "Đã nhận đăng ký lớp “{{ course.title }}”",
        """Kính gửi {{ recipient_name }},

Chúng tôi đã nhận đăng ký của anh/chị vào lớp tập huấn “{{ course.title }}” (mã lớp {{ course.code }}), {{ course.dates }}, tại {{ course.venue }}.

Đăng ký đang chờ {{ course.unit }} xét duyệt. Anh/chị sẽ nhận được thư báo kết quả.

Xem các lớp đã đăng ký: {{ links.my_courses }}
"""
        + _SIGNATURE,
    ),
    rules.ENROLLMENT_CONFIRMED: (
        "Xác nhận tham gia lớp “{{ course.title }}”",
        """Kính gửi {{ recipient_name }},

Anh/chị đã được xác nhận tham gia lớp tập huấn “{{ course.title }}” (mã lớp {{ course.code }}) do {{ course.unit }} tổ chức, {{ course.dates }}.

"""
        + _SESSIONS
        + """
Nếu không thể tham dự, xin vui lòng rút ghi danh để nhường chỗ cho người khác: {{ links.my_courses }}
"""
        + _SIGNATURE,
    ),
    rules.ENROLLMENT_WAITLISTED: (
        "Danh sách chờ lớp “{{ course.title }}” — vị trí số {{ waitlist.position }}",
        """Kính gửi {{ recipient_name }},

Lớp tập huấn “{{ course.title }}” (mã lớp {{ course.code }}, {{ course.dates }}) hiện đã đủ chỗ. Anh/chị đang ở vị trí số {{ waitlist.position }} trong danh sách chờ.

Khi có người rút, người đứng đầu danh sách chờ được chuyển lên danh sách chính thức và sẽ nhận được thư báo.

Xem các lớp đã đăng ký: {{ links.my_courses }}
"""
        + _SIGNATURE,
    ),
    rules.ENROLLMENT_PROMOTED: (
        "Anh/chị đã có chỗ chính thức trong lớp “{{ course.title }}”",
        """Kính gửi {{ recipient_name }},

Một học viên đã rút nên anh/chị được chuyển từ danh sách chờ lên danh sách chính thức của lớp tập huấn “{{ course.title }}” (mã lớp {{ course.code }}), {{ course.dates }}.

"""
        + _SESSIONS
        + """
Nếu không thể tham dự, xin vui lòng rút ghi danh để nhường chỗ cho người khác: {{ links.my_courses }}
"""
        + _SIGNATURE,
    ),
    rules.ENROLLMENT_REJECTED: (
        "Kết quả đăng ký lớp “{{ course.title }}”",
        """Kính gửi {{ recipient_name }},

Rất tiếc, đăng ký của anh/chị vào lớp tập huấn “{{ course.title }}” (mã lớp {{ course.code }}) chưa được chấp nhận.
{% if reason %}
Lý do: {{ reason }}
{% endif %}

Mọi thắc mắc xin liên hệ {{ course.unit }}.
"""
        + _SIGNATURE,
    ),
    rules.COURSE_REMINDER: (
        "Nhắc lịch: lớp “{{ course.title }}” bắt đầu ngày mai ({{ course.start }})",
        """Kính gửi {{ recipient_name }},

Lớp tập huấn “{{ course.title }}” (mã lớp {{ course.code }}) bắt đầu vào ngày mai, {{ course.start }}.

"""
        + _SESSIONS
        + """
Tệp lịch (.ics) đính kèm giúp thêm các buổi học vào lịch trên điện thoại hoặc máy tính.
Khi đến lớp, anh/chị đăng nhập trên điện thoại và quét mã QR trên màn hình để điểm danh.
"""
        + _SIGNATURE
        + _OPTIONAL_FOOTER,
    ),
    rules.PRETEST_OPEN: (
        "Mời làm bài kiểm tra đầu vào — lớp “{{ course.title }}”",
        """Kính gửi {{ recipient_name }},

Bài kiểm tra đầu vào “{{ test.title }}” của lớp tập huấn “{{ course.title }}” đã mở.
{% if test.closes %}
Hạn làm bài: {{ test.closes }}.
{% endif %}

Làm bài tại: {{ test.url }}

Bài kiểm tra giúp giảng viên biết những nội dung cần tập trung; kết quả không ảnh hưởng đến việc cấp giấy chứng nhận.
"""
        + _SIGNATURE
        + _OPTIONAL_FOOTER,
    ),
    rules.CERTIFICATE_ISSUED: (
        "Giấy chứng nhận hoàn thành lớp “{{ course.title }}”",
        """Kính gửi {{ recipient_name }},

Chúc mừng anh/chị đã hoàn thành lớp tập huấn “{{ course.title }}” (mã lớp {{ course.code }}), {{ course.dates }}.

Giấy chứng nhận số: {{ certificate.number }}
Ai cũng có thể kiểm tra giấy chứng nhận này tại: {{ certificate.verify_url }}

Anh/chị tải bản giấy chứng nhận tại trang “Lớp của tôi” sau khi đăng nhập: {{ links.my_courses }}
"""
        + _SIGNATURE
        + _OPTIONAL_FOOTER,
    ),
}

assert set(DEFAULT_TEMPLATES) == set(rules.EVENTS), "every event needs a default template"

_SAMPLE_SESSIONS = [
    {
        "date": "07/12/2026",
        "start": "07:30",
        "end": "11:00",
        "subject": "Luật Bình đẳng giới",
        "venue": "Hội trường UBND xã Cờ Đỏ",
        "line": "Thứ Hai 07/12/2026, 07:30–11:00: Luật Bình đẳng giới (Hội trường UBND xã Cờ Đỏ)",
    },
    {
        "date": "08/12/2026",
        "start": "13:30",
        "end": "16:30",
        "subject": "Phòng ngừa bạo lực trên cơ sở giới",
        "venue": "Hội trường UBND xã Cờ Đỏ",
        "line": "Thứ Ba 08/12/2026, 13:30–16:30: Phòng ngừa bạo lực trên cơ sở giới (Hội trường UBND xã Cờ Đỏ)",
    },
]

SAMPLE_CONTEXT: dict = {
    "recipient_name": "Thạch Thị Sa Rươl",
    "course": {
        "title": "Tập huấn kiến thức về bình đẳng giới năm 2026",
        "code": "CĐ-2026-03",
        "dates": "từ ngày 07/12/2026 đến ngày 08/12/2026",
        "start": "07/12/2026",
        "end": "08/12/2026",
        "venue": "Hội trường UBND xã Cờ Đỏ",
        "unit": "xã Cờ Đỏ",
        "sessions": _SAMPLE_SESSIONS,
    },
    "waitlist": {"position": 2},
    "reason": "Lớp dành cho cán bộ Hội Liên hiệp Phụ nữ xã.",
    "test": {"title": "Kiểm tra đầu vào", "url": "https://tap-huan.example.vn/tests/1", "closes": "06/12/2026 17:00"},
    "certificate": {"number": "Số: 03/2026/GCN-CĐ", "verify_url": "https://tap-huan.example.vn/verify/Xy7kP2mQ9aLr"},
    "site": {"name": "Quản lý tập huấn bình đẳng giới", "url": "https://tap-huan.example.vn"},
    "links": {
        "my_courses": "https://tap-huan.example.vn/my/courses",
        "preferences": "https://tap-huan.example.vn/notifications/preferences",
    },
}
