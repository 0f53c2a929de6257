"""Reply state of imported conversations, worked out while their messages are written.

The import computes state, response times and replied_at for the conversations it creates
(`reply_state.replay_new`) instead of reading them back; these tests hold it to the rules of
`reply_state.replay` and `rebuild_reply_state`.
"""
import json
import random
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest

from bench import gen_dm_export
from crm.conversations import reply_state
from crm.imports.dm_exports import stream as dm_stream
from tests.factories import reply_state_snapshot
from tests.test_imports_support import import_storage  # noqa: F401 (fixture)

T0 = datetime(2025, 3, 1, 9, 0, 0)


def random_conversation(rng: random.Random, size: int):
    """(direction, sent_at, author_id, body, media) in time order: bursts from either side,
    equal timestamps, sub-second gaps, media without text."""
    at, out = T0, []
    for _ in range(size):
        gap = rng.choice([0, 0, 1, 30, 3600, 86400 * 3]) + rng.choice([0, 0.25, 0.000001])
        at = at + timedelta(seconds=gap)
        direction = rng.choice(["in", "out"])
        media = rng.choice([None, None, "photo"])
        body = rng.choice(["", "hi", "  spaced\n text  ", "x" * 200]) if media else \
            rng.choice(["hi", "ok thanks", "y" * 170])
        out.append((direction, at, rng.choice([3, 4]) if direction == "out" else None, body,
                    media))
    return out


def replay_old(conv_id, messages):
    """What the rebuild's replay gives for the same messages, stored new."""
    rows = [(d, at, a) for d, at, a, _b, _m in messages]
    step = reply_state.replay(rows)
    values = {"id": conv_id, **step.state.values(),
              "last_message_preview": reply_state.preview_of(*messages[-1][3:])
              if messages else None}
    bursts = [{"conversation_id": conv_id, "burst_started_at": b[0], "answered_at": b[1],
               "response_seconds": b[2], "responder_id": b[3]} for b in step.bursts]
    return values, bursts, step.replied


@pytest.mark.parametrize("seed", range(300))
def test_replay_new_agrees_with_the_rebuild_rules(seed):
    rng = random.Random(seed)
    messages = random_conversation(rng, rng.choice([0, 1, 2, 3, 5, 12, 40]))
    assert reply_state.replay_new(77, messages) == replay_old(77, messages)


def test_replay_new_worked_example():
    h = timedelta(hours=1)
    messages = [("in", T0, None, "hi", None), ("in", T0 + h, None, "there", None),
                ("out", T0 + 2 * h, 5, "hello", None), ("out", T0 + 3 * h, 6, "?", None),
                ("in", T0 + 3 * h, None, "", "photo")]
    values, bursts, replied = reply_state.replay_new(9, messages)
    assert values == {"id": 9, "state": "needs_reply", "message_count": 5,
                      "last_message_at": T0 + 3 * h, "last_inbound_at": T0 + 3 * h,
                      "last_outbound_at": T0 + 3 * h, "waiting_since": T0 + 3 * h,
                      "last_message_preview": "[Photo]"}
    assert [(b["burst_started_at"], b["answered_at"], b["response_seconds"],
             b["responder_id"]) for b in bursts] == [(T0, T0 + 2 * h, 7200, 5),
                                                    (T0 + 3 * h, None, None, None)]
    # An inbound message at the same second as the outbound one answers it (it comes after).
    assert replied == [None, None, T0 + 3 * h, T0 + 3 * h, None]


class FakeSource:
    def __init__(self, messages):
        self._messages = messages

    def messages(self, thread, me, whatsapp_day_first=None):
        for out, at in self._messages:
            yield SimpleNamespace(sent_at=at, body="b", media=None, external_id=None,
                                  fingerprint=f"fp{at}", is_outbound=out,
                                  sender=SimpleNamespace(name="Me" if out else "Them"))


def test_readers_leave_an_out_of_order_thread_to_the_rebuild():
    fmt = dm_stream.RowFormat(None, {0: (5, 2, 1, T0)})
    ordered = [(False, T0), (True, T0 + timedelta(minutes=1))]
    rows, replayed = dm_stream._known_thread(FakeSource(ordered), None, "Me", None, fmt,
                                             fmt.known[0])
    assert replayed is not None and replayed.values["state"] == "awaiting_reply"
    assert [r[-1] for r in rows] == [None, None]
    assert replayed.bursts == [(5, T0, T0 + timedelta(minutes=1), 60, 2)]
    backwards = [(True, T0 + timedelta(minutes=1)), (False, T0)]
    rows, replayed = dm_stream._known_thread(FakeSource(backwards), None, "Me", None, fmt,
                                             fmt.known[0])
    assert replayed.values is None and len(rows) == 2


def write_thread(root, folder, messages):
    """An Instagram thread folder with (sender, timestamp_ms, content) messages."""
    path = root / "your_instagram_activity/messages/inbox" / folder / "message_1.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "participants": [{"name": "Maya Chen"}, {"name": "Alex Rivera"}],
        "title": "Maya Chen", "thread_path": f"inbox/{folder}",
        "messages": [{"sender_name": s, "timestamp_ms": ts, "content": c}
                     for s, ts, c in reversed(messages)]}))


@pytest.mark.parametrize("workers", ["0", "2"])
def test_imported_conversations_are_what_a_rebuild_gives(app, db, admin, tmp_path, workers):
    export = tmp_path / "export"
    gen_dm_export.main([str(export), "--messages", "1500", "--threads", "12", "--seed", "3"])
    base = 1_700_000_000_000
    # Equal timestamps across directions, and a thread that ends waiting on us.
    write_thread(export, "mayachen_1", [("Maya Chen", base, "hi"),
                                        ("Alex Rivera", base, "hello"),
                                        ("Maya Chen", base, "same ms"),
                                        ("Maya Chen", base + 5000, "still there?")])
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["import-dms", str(export), "--json",
                                                "--me", "Alex Rivera", "--workers", workers])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["messages_added"] > 1400
    db.session.expire_all()
    before = reply_state_snapshot()
    assert len(before[0]) == 13 and before[1]
    assert any(at is not None for _, at in before[2])
    assert {c[1] for c in before[0]} == {"needs_reply", "awaiting_reply"}
    reply_state.rebuild_reply_state([c[0] for c in before[0]])
    db.session.commit()
    assert reply_state_snapshot() == before
