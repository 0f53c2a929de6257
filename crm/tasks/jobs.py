"""Automatic follow-ups as a periodic job: a worker runs the rule every five minutes."""
from crm import jobs
from crm.extensions import db
from crm.tasks.followups import create_follow_ups


@jobs.periodic("tasks.follow_ups", minutes=5, label="Automatic follow-ups")
def follow_ups(job) -> dict:
    """Create the follow-up tasks that became due (once per unanswered DM)."""
    created = create_follow_ups()
    db.session.commit()
    return {"summary": f"{created} follow-up task{'s' if created != 1 else ''} created"}
