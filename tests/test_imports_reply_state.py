"""Reply state of imported conversations, worked out while their messages are written.

The import computes state, response times and replied_at for the conversations it creates,
a batch at a time (`reply_state.Replayer`), instead of reading them back; these tests hold it
to the rules of `reply_state.replay` and `rebuild_reply_state`.
"""
import json
import random
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, update

from bench import gen_dm_export
from crm.conversations import reply_state
from crm.conversations.models import Conversation, Message, ResponseTime
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


def folded(messages, size):
    """Replay `messages` a chunk of `size` at a time as an import stores it: each chunk's
    replied_at as it comes, and the earlier chunks' unanswered outbound messages set by the
    writer's UPDATE (replied_at still None, sent between the latest inbound and then)."""
    replayer = reply_state.Replayer()
    replied, bursts = [], []
    for start in range(0, max(len(messages), 1), size):
        chunk_messages = messages[start:start + size]
        since = replayer.state.last_inbound_at
        chunk = replayer.add(chunk_messages)
        if chunk.earlier_replied_at is not None:
            for i, m in enumerate(messages[:start]):
                if m[0] == "out" and replied[i] is None and m[1] <= chunk.earlier_replied_at \
                        and (since is None or m[1] >= since):
                    replied[i] = chunk.earlier_replied_at
        replied += chunk.replied
        bursts += chunk.bursts
        assert chunk.tail == len(chunk_messages) - len(
            [m for m, at in zip(chunk_messages, chunk.replied) if m[0] == "in" or at]) \
            or chunk.tail <= len(chunk_messages)
    bursts += replayer.finish()
    return replayer.state, [tuple(b) for b in bursts], replied


@pytest.mark.parametrize("seed", range(300))
def test_a_replay_folded_chunk_by_chunk_is_the_replay(seed):
    rng = random.Random(seed)
    messages = random_conversation(rng, rng.choice([0, 1, 2, 3, 5, 12, 40]))
    whole = reply_state.replay(messages)
    expected = (whole.state, [tuple(b) for b in whole.bursts], whole.replied)
    for size in (1, 2, 3, 7, 100):
        assert folded(messages, size) == expected, size


def test_a_folded_replay_worked_example():
    h = timedelta(hours=1)
    messages = [("in", T0, None, "hi", None), ("in", T0 + h, None, "there", None),
                ("out", T0 + 2 * h, 5, "hello", None), ("out", T0 + 3 * h, 6, "?", None),
                ("in", T0 + 3 * h, None, "", "photo")]
    replayer = reply_state.Replayer()
    first = replayer.add(messages[:2])
    assert first.bursts == [] and first.tail == 0        # the burst is still open
    second = replayer.add(messages[2:4])
    assert second.bursts == [[T0, T0 + 2 * h, 7200, 5]] and second.tail == 2
    assert second.replied == [None, None]
    third = replayer.add(messages[4:])
    # An inbound message at the same second as the outbound one answers it (it comes after).
    assert third.earlier_replied_at == T0 + 3 * h and third.bursts == []
    assert replayer.finish() == [[T0 + 3 * h, None, None, None]]
    assert replayer.state.values() == {
        "state": "needs_reply", "message_count": 5, "last_message_at": T0 + 3 * h,
        "last_inbound_at": T0 + 3 * h, "last_outbound_at": T0 + 3 * h,
        "waiting_since": T0 + 3 * h}


class FakeSource:
    def __init__(self, messages):
        self._messages = messages

    def messages(self, thread, me, whatsapp_day_first=None):
        for out, at in self._messages:
            yield SimpleNamespace(sent_at=at, body="b", media=None, external_id=None,
                                  fingerprint=f"fp{at}", is_outbound=out,
                                  sender=SimpleNamespace(name="Me" if out else "Them"))


def test_readers_leave_an_out_of_order_thread_to_the_rebuild(monkeypatch):
    monkeypatch.setattr(dm_stream, "BATCH", 2)
    fmt = dm_stream.RowFormat(None, {0: (5, 2, 1, T0)})
    m = timedelta(minutes=1)
    ordered = [(False, T0), (True, T0 + m), (True, T0 + 2 * m), (False, T0 + 3 * m)]
    batches = list(dm_stream._known_thread(FakeSource(ordered), None, "Me", None, fmt,
                                           fmt.known[0]))
    assert [(len(rows), last) for rows, last, _ in batches] == [(2, False), (2, True)]
    (first, _, one), (second, _, two) = batches
    assert one.values is None and one.bursts == [(5, T0, T0 + m, 60, 2)]
    # The second outbound message waited at the end of the first batch: the writer sets it.
    assert [r[-1] for r in first] == [None, None] and two.earlier_replied == (T0 + 3 * m, T0)
    assert [r[-1] for r in second] == [T0 + 3 * m, None]
    assert two.values["state"] == "needs_reply" and two.values["message_count"] == 4
    assert two.bursts == [(5, T0 + 3 * m, None, None, None)]
    backwards = [(True, T0 + m), (False, T0), (False, T0 + 2 * m)]
    batches = list(dm_stream._known_thread(FakeSource(backwards), None, "Me", None, fmt,
                                           fmt.known[0]))
    assert batches[-1][2].values is None and sum(len(rows) for rows, _, _ in batches) == 3


def write_thread(root, folder, messages):
    """An Instagram thread folder with (sender, timestamp_ms, content) messages."""
    path = root / "your_instagram_activity/messages/inbox" / folder / "message_1.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "participants": [{"name": "Maya Chen"}, {"name": "Alex Rivera"}],
        "title": "Maya Chen", "thread_path": f"inbox/{folder}",
        "messages": [{"sender_name": s, "timestamp_ms": ts, "content": c}
                     for s, ts, c in reversed(messages)]}))


@pytest.mark.parametrize("workers,batch", [("0", 5000), ("2", 5000), ("0", 7), ("2", 7)])
def test_imported_conversations_are_what_a_rebuild_gives(app, db, admin, tmp_path, workers,
                                                         batch, monkeypatch):
    # With batches of 7, every long thread's reply state is folded batch by batch.
    monkeypatch.setattr(dm_stream, "BATCH", batch)
    export = tmp_path / "export"
    gen_dm_export.main([str(export), "--messages", "1500", "--threads", "12", "--seed", "3"])
    base = 1_700_000_000_000
    # Equal timestamps across directions, runs of outbound messages longer than a batch,
    # and a thread that ends waiting on us.
    write_thread(export, "mayachen_1", [("Maya Chen", base, "hi"),
                                        ("Alex Rivera", base, "hello"),
                                        ("Maya Chen", base, "same ms"),
                                        ("Maya Chen", base + 5000, "still there?")]
                 + [("Alex Rivera", base + 6000 + n, f"part {n}") for n in range(9)]
                 + [("Maya Chen", base + 20_000, "ok")]
                 + [("Alex Rivera", base + 21_000 + n, f"more {n}") for n in range(5)]
                 + [("Maya Chen", base + 30_000, "?")])
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
    # And a rebuild a few messages at a time (tails of waiting outbound messages held by id,
    # or by range when a run outgrows a page) gives the same, from whatever was stored.
    db.session.execute(update(Message).values(replied_at=T0))
    db.session.execute(update(Conversation).values(state="closed", message_count=0))
    db.session.execute(delete(ResponseTime))
    monkeypatch.setattr(reply_state, "PAGE_ROWS", 3)
    reply_state.rebuild_reply_state([c[0] for c in before[0]])
    db.session.commit()
    assert reply_state_snapshot() == before
