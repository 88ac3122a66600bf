"""Every feature's models, imported so Alembic and the shell see them all."""

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
from bdg_training.audit.models import AuditEvent
from bdg_training.auth.models import User
from bdg_training.certificates.models import (
    Certificate,
    CertificateCounter,
    CertificateJob,
    CertificateOverride,
    CertificateTemplate,
    IssuerSettings,
)
from bdg_training.courses.models import Course, CourseSession, PlanTarget, Topic, TrainingPlan
from bdg_training.enrollment.models import Attendance, Enrollment, ImportBatch, Trainee
from bdg_training.notifications.models import NotificationPreference, NotificationTemplate, OutboxMessage
from bdg_training.reports.models import ApiToken
from bdg_training.units.models import Signer, Unit, unit_successions

__all__ = [
    "ApiToken",
    "Attempt",
    "AttemptAnswer",
    "EvaluationForm",
    "EvaluationResponse",
    "EvaluationSubmission",
    "Option",
    "Question",
    "TestForm",
    "TestFormItem",
    "Attendance",
    "AuditEvent",
    "Certificate",
    "CertificateCounter",
    "CertificateJob",
    "CertificateOverride",
    "CertificateTemplate",
    "Course",
    "CourseSession",
    "Enrollment",
    "ImportBatch",
    "NotificationPreference",
    "NotificationTemplate",
    "OutboxMessage",
    "IssuerSettings",
    "PlanTarget",
    "Signer",
    "Topic",
    "Trainee",
    "TrainingPlan",
    "Unit",
    "User",
    "unit_successions",
]
