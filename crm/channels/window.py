"""Whether and how a channel lets us message someone now: the platforms' reply windows.

A pure function of the channel's kind and settings, the contact's consent, and when the
contact last wrote (only their messages open or extend a window).
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm.channels.models import KIND_LABELS, WHATSAPP
from crm.core.timeutil import humanize_duration

STANDARD = timedelta(hours=24)
HUMAN_AGENT = timedelta(days=7)

# How a reply may go out now.
RESPONSE, HUMAN, TEMPLATE = "response", "human_agent", "template"


@dataclass(frozen=True)
class Window:
    mode: str | None        # RESPONSE, HUMAN, TEMPLATE, or None: nothing may be sent
    message: str            # what the user reads before typing
    closes_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.mode is not None

    @property
    def free_text(self) -> bool:
        return self.mode in (RESPONSE, HUMAN)


def _left(until: datetime, now: datetime) -> str:
    seconds = max(60, (until - now).total_seconds())
    return humanize_duration(seconds)


def reply_window(kind: str, *, last_inbound_at: datetime | None, now: datetime,
                 human_agent: bool = False, may_contact: bool = True,
                 refusal: str | None = None) -> Window:
    label = KIND_LABELS[kind]
    if not may_contact:
        return Window(None, refusal or "Opted out — no outreach.")
    if last_inbound_at is not None and now < last_inbound_at + STANDARD:
        closes = last_inbound_at + STANDARD
        return Window(RESPONSE, f"Reply window open — {_left(closes, now)} left.", closes)
    if kind == WHATSAPP:
        return Window(TEMPLATE, "WhatsApp: outside 24 h only an approved template can be sent "
                                "(it does not reopen the window; their next message does).")
    if last_inbound_at is None:
        return Window(None, f"You can't start a conversation on {label} — write to them from "
                            "the app, and it will appear here.")
    if human_agent and now < last_inbound_at + HUMAN_AGENT:
        closes = last_inbound_at + HUMAN_AGENT
        return Window(HUMAN, f"Window closed: {label} allows a human-agent reply for 7 days "
                             f"after their last message — {_left(closes, now)} left. Write "
                             "it yourself; automated messages are not allowed.", closes)
    more = ("" if human_agent else " (7 days for a reply a person writes, if an admin turns on "
                                   "human-agent replies)")
    return Window(None, f"Window closed: {label} allows replies within 24 hours of their last "
                        f"message{more}. It reopens when they write again.")
