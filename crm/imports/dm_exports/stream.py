"""The messages of the chosen threads, as batches of plain tuples, oldest first per thread.

Reading a big export costs about as much as writing it, so on a machine with two cores
the command line reads in forked worker processes while the parent writes. The workers
share nothing with the database: they only parse and send (thread index, rows, ...)
through a pipe; a full pipe makes them wait, which keeps memory bounded. The web process
reads in-line (forking a threaded server is not safe). A new conversation's reply state is
folded batch by batch as its rows are made (reply_state.Replayer), so no thread is ever held
whole, however long.
"""
from __future__ import annotations

import multiprocessing.reduction  # noqa: F401  (loaded before forking: children import nothing)
import os
from datetime import timezone
from multiprocessing import get_all_start_methods, get_context

from crm.conversations.reply_state import Replayer, preview_of
from crm.imports.dm_exports.parsers.base import reap, received_from, run_forked_child

BATCH = 5000
# Below this many messages, reading in the same process is as fast as forking readers.
PARALLEL_FROM = 20_000


def pack_message(m, sent_at_to_db):
    """(sent_at as the database stores it, body, media, external id, fingerprint,
    outbound?, sender name) — what the writer needs and nothing else."""
    at = m.sent_at
    if at.tzinfo is not None:
        at = at.astimezone(timezone.utc).replace(tzinfo=None)
    # A NUL character stays: the ingestion service refuses it, naming the message.
    return (sent_at_to_db(at) if sent_at_to_db else at, m.body, m.media, m.external_id,
            m.fingerprint, m.is_outbound, (m.sender.name or "")[:200])


class RowFormat:
    """How rows leave the reader. Threads whose conversation is already known (and whose
    messages are all new) come as finished `messages` rows, replied_at included, so the
    writer only inserts them; the others come packed, for the writer to check against what
    is stored."""

    def __init__(self, to_db, known: dict[int, tuple] | None = None):
        self.to_db = to_db
        self.known = known or {}   # thread index → (conversation id, author id, import id, now)


class Replayed:
    """The reply state of a new conversation, worked out by the reader a batch at a time
    (reply_state.Replayer), sent with each batch of its rows:

    - bursts: the ResponseTime rows finished in this batch, as tuples of RESPONSE_COLUMNS in
      the database's own form;
    - earlier_replied: (when, since), naive UTC datetimes, when this batch's first inbound
      message answers outbound messages of earlier batches, which were sent with replied_at
      None: the writer sets their replied_at before it adds this batch (`since`: the latest
      inbound message before them, None when there was none);
    - with the last batch, values: the conversation's values (None when the messages were
      not in time order: then the writer rebuilds it from the table), and the duplicates.
    """

    __slots__ = ("values", "bursts", "earlier_replied", "duplicates")
    RESPONSE_COLUMNS = ("conversation_id", "burst_started_at", "answered_at",
                        "response_seconds", "responder_id")

    def __init__(self, values=None, bursts=(), earlier_replied=None, duplicates=0):
        self.values = values
        self.bursts = bursts
        self.earlier_replied = earlier_replied
        self.duplicates = duplicates   # messages whose platform id came earlier in the thread


class _NewThread:
    """A new conversation's messages turned into rows, a batch at a time, with its reply
    state folded batch by batch: memory stays bounded whatever the thread's length."""

    def __init__(self, fmt: RowFormat, known):
        self.conv, self.author, self.run_id, self.now = known
        self.to_db = fmt.to_db or (lambda v: v)
        self.replayer = Replayer()
        self.in_order = True
        self.last_at = None
        self.last = None       # (body, media) of the latest message, for the preview

    def batch(self, packed: list[tuple], last: bool, duplicates: int):
        """(rows, Replayed) of the next packed messages; `last` when the thread ends."""
        conv, author, to_db = self.conv, self.author, self.to_db
        rows = [[conv, "out" if p[5] else "in", to_db(p[0]), p[1], p[2],
                 author if p[5] else None, p[6], p[3], p[4], self.run_id, self.now, None]
                for p in packed]
        if self.in_order and packed:
            at = self.last_at
            for p in packed:
                if at is not None and p[0] < at:
                    self.in_order = False   # the writer rebuilds it from the table
                    break
                at = p[0]
            self.last_at = at
        replayed = Replayed(duplicates=duplicates)
        if self.in_order:
            before = self.replayer.state.last_inbound_at
            chunk = self.replayer.add([("out" if p[5] else "in", p[0], author if p[5] else None)
                                       for p in packed])
            for row, at in zip(rows, chunk.replied):
                if at is not None:
                    row[11] = to_db(at)
            if chunk.earlier_replied_at is not None:
                replayed.earlier_replied = (chunk.earlier_replied_at, before)
            bursts = chunk.bursts + (self.replayer.finish() if last else [])
            if packed:
                self.last = packed[-1][1:3]
        else:
            bursts = []
        bursts = [{"conversation_id": conv, "burst_started_at": b[0], "answered_at": b[1],
                   "response_seconds": b[2], "responder_id": b[3]} for b in bursts]
        replayed.bursts = [(conv, to_db(b["burst_started_at"]),
                            None if b["answered_at"] is None else to_db(b["answered_at"]),
                            b["response_seconds"], b["responder_id"]) for b in bursts]
        if last and self.in_order:
            replayed.values = {"id": conv, **self.replayer.state.values(),
                               "last_message_preview": preview_of(*self.last)
                               if self.last else None}
        return [tuple(r) for r in rows], replayed


def _known_thread(source, thread, me, day_first, fmt: RowFormat, known):
    """(rows, last?, Replayed) batches of a new conversation: `messages` rows, replied_at
    filled in as far as the batch tells (see Replayed); the last batch may be empty."""
    new = _NewThread(fmt, known)
    packed, ids, duplicates = [], set(), 0
    for m in source.messages(thread, me, whatsapp_day_first=day_first):
        p = pack_message(m, None)
        if p[3]:   # a platform message id given twice is one message (unique per conversation)
            if p[3] in ids:
                duplicates += 1
                continue
            ids.add(p[3])
        if len(packed) == BATCH:
            rows, replayed = new.batch(packed, False, 0)
            yield rows, False, replayed
            packed = []
        packed.append(p)
    rows, replayed = new.batch(packed, True, duplicates)
    yield rows, True, replayed


def _thread_items(source, index, thread, me, day_first, fmt):
    """(index, rows, last?, finished?, replayed) items of one thread. A new conversation's
    items each carry a Replayed."""
    known = fmt.known.get(index)
    if known is not None:
        for rows, last, replayed in _known_thread(source, thread, me, day_first, fmt, known):
            yield index, rows, last, True, replayed
        return
    pending = None
    for m in source.messages(thread, me, whatsapp_day_first=day_first):
        if pending is None:
            pending = []
        elif len(pending) >= BATCH:
            yield index, pending, False, False, None
            pending = []
        pending.append(pack_message(m, fmt.to_db))
    yield index, pending or [], True, False, None


def in_line(source, threads, me, day_first, fmt: RowFormat):
    """Yield (index, rows, last?, finished?, replayed) for each thread in turn."""
    for i, thread in enumerate(threads):
        yield from _thread_items(source, i, thread, me, day_first, fmt)


def can_fork() -> bool:
    return "fork" in get_all_start_methods()


def forked(source, threads, me, day_first, fmt: RowFormat, workers: int = 2):
    """The same batches, read by `workers` child processes (thread i goes to worker i % n)."""
    ctx = get_context("fork")
    children: list[tuple[int, object]] = []
    try:
        for w in range(workers):
            reader, writer = ctx.Pipe(duplex=False)
            pid = os.fork()
            if pid == 0:  # the child: parse, send, and leave without running any cleanup
                def work(w=w, reader=reader, writer=writer):
                    reader.close()
                    for i in range(w, len(threads), workers):
                        for item in _thread_items(source, i, threads[i], me, day_first, fmt):
                            writer.send(item)

                run_forked_child(writer, work)
            writer.close()
            children.append((pid, reader))
        yield from received_from([r for _, r in children])
    finally:
        reap(children)
