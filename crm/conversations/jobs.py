"""Snoozed conversations come back to the inbox: a worker looks every five minutes."""
from crm import jobs
from crm.conversations.services import wake_snoozed
from crm.extensions import db


@jobs.periodic("conversations.wake_snoozed", minutes=5, label="Snoozed conversations back")
def wake(job) -> dict:
    """Put snoozed conversations whose time has come back in the inbox."""
    woken = wake_snoozed()
    db.session.commit()
    return {"summary": f"{woken} snoozed conversation{'s' if woken != 1 else ''} back"}
