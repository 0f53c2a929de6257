"""Automatic follow-ups as a periodic job: a worker runs the rule every five minutes, and
announces the tasks that came due (the task.due webhook event)."""
from crm import jobs
from crm.extensions import db
from crm.tasks.due import announce_due
from crm.tasks.followups import create_follow_ups


@jobs.periodic("tasks.follow_ups", minutes=5, label="Automatic follow-ups")
def follow_ups(job) -> dict:
    """Create the follow-up tasks that became due (once per unanswered DM); announce the
    tasks that came due."""
    created = create_follow_ups()
    db.session.flush()
    announce_due()
    db.session.commit()
    return {"summary": f"{created} follow-up task{'s' if created != 1 else ''} created"}
