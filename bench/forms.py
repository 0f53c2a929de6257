"""Valid forms for the write benchmarks — what the board's move form and the contact page's
"Log a DM" form post — built from the dataset inside the app context.

Each user's requests are split into three disjoint groups (wrk, sequential timing, query
count) so concurrent requests never fight over one deal's version. Within a group a deal is
moved to a neighbouring stage and back, pass after pass, each time with the version the
previous pass left, so every request is a real move that passes the optimistic check.
"""
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import select

from crm.contacts.models import Contact
from crm.conversations.models import Conversation, Message
from crm.extensions import db
from crm.pipeline.models import OPEN, Deal, Pipeline

GROUPS = (0.6, 0.3, 0.1)      # wrk, sequential timing, query count
WRK, TIMING, COUNT = range(3)


@dataclass
class PostPlan:
    build: Callable[[int, int], tuple[str, dict]]   # (group, n) -> (path, form)
    headers: dict
    success_header: str    # present on a response that really wrote something


def _split(items: list) -> list[list]:
    if len(items) < 3:
        raise RuntimeError("Not enough records for the write benchmark; generate more data.")
    out, start = [], 0
    for share in GROUPS:
        size = max(1, int(len(items) * share))
        out.append(items[start:start + size])
        start += size
    return out


def move_deal(owner_id: int, exclude_contact: int | None = None) -> PostPlan:
    """Drag a card to the neighbouring stage on the board (HTMX), with its version."""
    stages = {p.id: [s.id for s in p.active_stages if s.outcome == OPEN]
              for p in db.session.scalars(select(Pipeline))}
    moves = []
    for deal_id, version, stage_id, pipeline_id in db.session.execute(
            select(Deal.id, Deal.version, Deal.stage_id, Deal.pipeline_id)
            .where(Deal.outcome == OPEN, Deal.archived_at.is_(None), Deal.owner_id == owner_id)
            .order_by(Deal.id)):
        ids = stages.get(pipeline_id, [])
        if stage_id not in ids or len(ids) < 2:
            continue
        i = ids.index(stage_id)
        moves.append((deal_id, version, stage_id, ids[i + 1] if i + 1 < len(ids) else ids[i - 1],
                      pipeline_id))
    groups = _split(moves)

    def build(group: int, n: int):
        deals = groups[group]
        deal_id, version, here, there, pipeline_id = deals[n % len(deals)]
        done = n // len(deals)
        src, dst = (here, there) if done % 2 == 0 else (there, here)
        return f"/deals/{deal_id}/move", {"version": version + done, "from_stage_id": src,
                                          "board": "1", "pipeline": pipeline_id,
                                          "stage_id": dst}

    return PostPlan(build, {"HX-Request": "true", "HX-Current-URL": "http://127.0.0.1/board"},
                    "hx-trigger")


REPLIES = ["Thanks! Sounds good 👍", "Can you send the brief?", "What's the budget for this?"]
SENT = ["Great, sending the brief now.", "Does Thursday 3pm work for a quick call?",
        "Just checking in — any news on your side?"]


def log_dm(owner_id: int, exclude_contact: int | None = None) -> PostPlan:
    """Log a DM from the contact page (HTMX): received and sent in turn, on their thread."""
    # The thread's last message, as the page posts it (what comes after it is appended).
    latest = (select(Message.id).where(Message.conversation_id == Conversation.id)
              .order_by(Message.sent_at.desc(), Message.id.desc()).limit(1)
              .correlate(Conversation).scalar_subquery())
    seen, targets = set(), []
    for conv_id, platform, contact_id, last_id in db.session.execute(
            select(Conversation.id, Conversation.platform, Conversation.contact_id, latest)
            .join(Contact, Contact.id == Conversation.contact_id)
            .where(Contact.owner_id == owner_id, Contact.archived_at.is_(None),
                   Contact.do_not_contact.is_(False), Contact.consent_status != "opted_out",
                   Contact.id != (exclude_contact or 0))
            .order_by(Conversation.id).limit(3000)):
        if contact_id not in seen:
            seen.add(contact_id)
            targets.append((contact_id, conv_id, platform, last_id))
    groups = _split(targets)

    def build(group: int, n: int):
        contact_id, conv_id, platform, last_id = groups[group][n % len(groups[group])]
        form = {"conversation_id": conv_id, "template_id": "", "sent_at": "", "media": "",
                "platform": platform, "shown_until": last_id or ""}
        if n % 2 == 0:
            form.update(direction="in", body=REPLIES[n % 3])
        else:
            # "Log it anyway": the duplicate-outreach warning is answered, the DM is logged.
            form.update(direction="out", body=SENT[n % 3], confirm="1")
        return f"/contacts/{contact_id}/messages", form

    return PostPlan(build, {"HX-Request": "true", "HX-Target": "conversations",
                            "HX-Current-URL": "http://127.0.0.1/contacts"}, "hx-trigger")


BUILDERS = {"move_deal": move_deal, "log_dm": log_dm}
