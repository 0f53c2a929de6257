"""The privacy jobs: a person's data export, and the daily retention run."""
from crm import jobs
from crm.extensions import db
from crm.privacy import export, retention
from crm.privacy.services import EXPORT_TASK


@jobs.job(EXPORT_TASK, label="Personal data export")
def export_person(job, contact_id: int) -> dict:
    """Build the zip of everything held about one person."""
    return export.build(job, contact_id)


@jobs.periodic("privacy.retention", daily_at_hour=3, label="Retention limits")
def apply_retention(job) -> dict:
    """Erase closed conversations and archived contacts kept past the retention limits, and
    delete data exports whose links have expired."""
    report = retention.apply()
    expired = export.forget_expired()
    db.session.commit()
    return {"summary": retention.summary(report)
            + (f"; {expired} expired export file{'s' if expired != 1 else ''} deleted"
               if expired else ""), **report}
