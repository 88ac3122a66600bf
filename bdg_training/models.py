"""Every feature's models, imported so Alembic and the shell see them all."""

from bdg_training.audit.models import AuditEvent
from bdg_training.auth.models import User
from bdg_training.courses.models import Course, CourseSession, PlanTarget, Topic, TrainingPlan
from bdg_training.units.models import Signer, Unit, unit_successions

__all__ = [
    "AuditEvent",
    "Course",
    "CourseSession",
    "PlanTarget",
    "Signer",
    "Topic",
    "TrainingPlan",
    "Unit",
    "User",
    "unit_successions",
]
