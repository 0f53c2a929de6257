"""The platforms' reply windows, around their edges."""
from datetime import datetime, timedelta

from crm.channels.window import HUMAN, RESPONSE, TEMPLATE, reply_window

NOW = datetime(2026, 12, 6, 12, 0)


def _w(kind, ago, **kw):
    last = None if ago is None else NOW - ago
    return reply_window(kind, last_inbound_at=last, now=NOW, **kw)


def test_open_within_24_hours_with_time_left():
    w = _w("instagram", timedelta(hours=18, minutes=48))
    assert w.mode == RESPONSE and w.message == "Reply window open — 5 h 12 min left."
    assert _w("whatsapp", timedelta(hours=23, minutes=59, seconds=59)).mode == RESPONSE


def test_closes_at_exactly_24_hours():
    assert _w("messenger", timedelta(hours=24)).mode is None
    assert "within 24 hours" in _w("messenger", timedelta(hours=24)).message


def test_human_agent_only_when_enabled_and_within_7_days():
    assert _w("instagram", timedelta(days=2)).mode is None
    w = _w("instagram", timedelta(days=2), human_agent=True)
    assert w.mode == HUMAN and "human-agent reply for 7 days" in w.message and "5 d" in w.message
    assert _w("instagram", timedelta(days=7), human_agent=True).mode is None
    assert _w("instagram", timedelta(days=6, hours=23), human_agent=True).mode == HUMAN


def test_whatsapp_outside_24_hours_needs_a_template():
    w = _w("whatsapp", timedelta(days=3))
    assert w.mode == TEMPLATE and "only an approved template" in w.message
    assert _w("whatsapp", None).mode == TEMPLATE


def test_cannot_start_a_conversation_on_instagram_or_messenger():
    for kind in ("instagram", "messenger"):
        w = _w(kind, None, human_agent=True)
        assert w.mode is None and "can't start a conversation" in w.message


def test_opted_out_wins_over_an_open_window():
    w = _w("instagram", timedelta(minutes=5), may_contact=False)
    assert w.mode is None and w.message.startswith("Opted out — no outreach")
