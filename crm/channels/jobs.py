"""Background work of live channels, on the job queue (crm.jobs).

- "channels.events": apply every stored webhook event (crm.channels.worker.drain). One is
  queued when an event arrives and none is waiting; several may run at once (each event
  is claimed in its own transaction).
- "channels.send": one reply through the Send API.
- "channels.profiles": name and username of new senders, from the profile API.
- "channels.media": fetch one WhatsApp media file into MEDIA_FOLDER (crm.channels.media).
"""
import time

from sqlalchemy import select

from crm import jobs
from crm.channels import graph, media, people, replies, services, worker
from crm.channels.models import WHATSAPP, Channel
from crm.extensions import db
from crm.jobs.models import Job

EVENTS, SEND, PROFILES = "channels.events", "channels.send", "channels.profiles"
MEDIA = worker.MEDIA_JOB


# A drain waits this long for more events before it ends, and a web process that saw a
# drain queued less than WAKE_MEMO seconds ago does not look again: the event it stores
# then is taken by that drain (which has not started, or is still lingering).
LINGER, WAKE_MEMO = 2.0, 0.25
_seen_queued = [-1e9]


def enqueue_event(event_id: int) -> None:
    """Make sure a worker will apply the event just stored (sent when the request commits):
    a drain job is queued unless one is waiting already. Looked up at most every WAKE_MEMO
    seconds per process, so a burst costs one query now and then, not one per event."""
    now = time.monotonic()
    if now - _seen_queued[0] < WAKE_MEMO:
        return
    waiting = db.session.scalar(select(Job.id).where(Job.status == "queued", Job.task == EVENTS)
                                .limit(1))
    if waiting is None:
        jobs.enqueue(EVENTS)
    _seen_queued[0] = now


def enqueue_send(send_id: int, user=None) -> None:
    jobs.enqueue(SEND, send_id, user=user, subject=f"channel-send:{send_id}")


@jobs.job(EVENTS, label="Live channel events")
def apply_events(job) -> dict:
    """Apply the events waiting (each commits on its own); new senders' profiles follow."""
    applied = worker.drain(on_new_people=_queue_profiles, linger=LINGER)
    return {"summary": f"{applied} events applied"}


@jobs.periodic("channels.events-sweep", minutes=5, label="Live channel events left waiting")
def sweep_events(job) -> dict:
    """A safety net: events stored while no drain was coming (a worker restarted, a queue
    message lost) are applied within five minutes."""
    applied = worker.drain(on_new_people=_queue_profiles)
    return {"summary": f"{applied} events applied"}


def _queue_profiles(channel_id: int, person_ids: list[str]) -> None:
    channel = db.session.get(Channel, channel_id)
    if channel is not None and channel.kind != WHATSAPP:   # WhatsApp sends the name itself
        jobs.enqueue(PROFILES, channel_id, person_ids)
        db.session.commit()


@jobs.job(SEND, label="Reply on a live channel")
def send(job, send_id: int) -> dict:
    """Send one reply; its message, or the platform's reason, is stored."""
    jobs.fence()
    sent = replies.deliver(send_id)
    db.session.commit()
    return {"summary": sent.status if sent else "gone"}


@jobs.job(PROFILES, label="Profiles of new senders")
def profiles(job, channel_id: int, person_ids: list) -> dict:
    """Ask the profile API who wrote (it answers only for people who messaged us)."""
    channel = db.session.get(Channel, channel_id)
    named = 0
    for person_id in person_ids:
        try:
            found = graph.profile(channel, person_id)
        except graph.GraphError as e:
            if e.token_revoked:
                services.mark_needs_reconnecting(channel, e.message)
                db.session.commit()
                break
            continue     # this person's profile is not available; the name stays
        if people.adopt_profile(channel, person_id, found["name"], found["username"]):
            named += 1
        db.session.commit()
    return {"summary": f"{named} profiles"}


@jobs.job(MEDIA, label="WhatsApp media file")
def fetch_media(job, media_row_id: int) -> dict:
    """Fetch one media file; what went wrong is kept on its message, in words."""
    status = media.fetch(media_row_id)
    jobs.fence()
    db.session.commit()
    return {"summary": status}
