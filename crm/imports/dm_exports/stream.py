"""The messages of the chosen threads, as batches of plain tuples, oldest first per thread.

Reading a big export costs about as much as writing it, so on a machine with two cores
the command line reads in forked worker processes while the parent writes. The workers
share nothing with the database: they only parse and send (thread index, rows, ...)
through a pipe; a full pipe makes them wait, which keeps memory bounded. The web process
reads in-line (forking a threaded server is not safe).
"""
from __future__ import annotations

import multiprocessing.reduction  # noqa: F401  (loaded before forking: children import nothing)
import os
from datetime import timezone
from multiprocessing import get_all_start_methods, get_context

from crm.conversations.reply_state import replay_new
from crm.imports.dm_exports.parsers.base import reap, received_from, run_forked_child
from crm.reports.loaded import Tally

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

    def __init__(self, to_db, known: dict[int, tuple] | None = None, owners=None):
        self.to_db = to_db
        self.known = known or {}   # thread index → (conversation id, author id, import id, now)
        # With `owners` (thread index → contact owner id), the reader also keeps the
        # dashboard rollups' counts of those threads, and sends them once it is done.
        self.owners = owners
        self.tally = Tally() if owners is not None else None


class Replayed:
    """The reply state of a new conversation, worked out by the reader (see
    reply_state.replay_new): conversation values, and ResponseTime rows as tuples of
    RESPONSE_COLUMNS in the database's own form."""

    __slots__ = ("values", "bursts", "duplicates")
    RESPONSE_COLUMNS = ("conversation_id", "burst_started_at", "answered_at",
                        "response_seconds", "responder_id")

    def __init__(self, values, bursts, duplicates=0):
        self.values = values
        self.bursts = bursts
        self.duplicates = duplicates   # messages whose platform id came earlier in the thread


def _known_thread(source, thread, me, day_first, fmt: RowFormat, known, index=None):
    """A new conversation's rows, replied_at filled in, and its Replayed state (values None
    when the messages are not in time order: then the writer rebuilds it from the table)."""
    conv, author, run_id, now = known
    to_db = fmt.to_db or (lambda v: v)
    naive, rows, ids, duplicates = [], [], set(), 0
    for m in source.messages(thread, me, whatsapp_day_first=day_first):
        p = pack_message(m, None)
        if p[3]:   # a platform message id given twice is one message (unique per conversation)
            if p[3] in ids:
                duplicates += 1
                continue
            ids.add(p[3])
        out = p[5]
        naive.append(("out" if out else "in", p[0], author if out else None, p[1], p[2]))
        rows.append([conv, "out" if out else "in", to_db(p[0]), p[1], p[2],
                     author if out else None, p[6], p[3], p[4], run_id, now, None])
    if any(naive[i][1] > naive[i + 1][1] for i in range(len(naive) - 1)):
        if fmt.tally is not None:  # none replied until the rebuild (its UPDATEs mark them)
            fmt.tally.count(fmt.owners.get(index), rows, [])
        return [tuple(r) for r in rows], Replayed(None, [], duplicates)
    values, bursts, replied = replay_new(conv, naive)
    for row, at in zip(rows, replied):
        if at is not None:
            row[11] = to_db(at)
    if fmt.tally is not None:
        fmt.tally.count(fmt.owners.get(index), rows, bursts)
    bursts = [(b["conversation_id"], to_db(b["burst_started_at"]),
               None if b["answered_at"] is None else to_db(b["answered_at"]),
               b["response_seconds"], b["responder_id"]) for b in bursts]
    return [tuple(r) for r in rows], Replayed(values, bursts, duplicates)


def _thread_batches(source, index, thread, me, day_first, fmt: RowFormat):
    """(rows, replayed) batches of one thread; replayed comes with the last batch of a
    finished thread, None otherwise."""
    known = fmt.known.get(index)
    if known is not None:
        rows, replayed = _known_thread(source, thread, me, day_first, fmt, known, index)
        for start in range(0, len(rows), BATCH):
            yield rows[start:start + BATCH], None
        yield [], replayed
        return
    batch = []
    for m in source.messages(thread, me, whatsapp_day_first=day_first):
        batch.append(pack_message(m, fmt.to_db))
        if len(batch) >= BATCH:
            yield batch, None
            batch = []
    yield batch, None


def _thread_items(source, index, thread, me, day_first, fmt):
    """(index, rows, last?, finished?, replayed) items of one thread; only the last item
    may carry a Replayed."""
    finished = index in fmt.known
    pending = None
    for batch, replayed in _thread_batches(source, index, thread, me, day_first, fmt):
        if replayed is not None or (not batch and pending is not None):
            yield index, pending or [], True, finished, replayed
            return
        if pending is not None:
            yield index, pending, False, finished, None
        pending = batch
    yield index, pending or [], True, finished, None


def _tally_item(fmt: RowFormat):
    """The reader's last item: its rollup counts (index None)."""
    return None, [], True, False, fmt.tally


def in_line(source, threads, me, day_first, fmt: RowFormat):
    """Yield (index, rows, last?, finished?, replayed) for each thread in turn, then, when
    counting for the rollups, (None, [], True, False, tally)."""
    for i, thread in enumerate(threads):
        yield from _thread_items(source, i, thread, me, day_first, fmt)
    if fmt.tally is not None:
        yield _tally_item(fmt)


def can_fork() -> bool:
    return "fork" in get_all_start_methods()


def forked(source, threads, me, day_first, fmt: RowFormat, workers: int = 2):
    """The same batches, read by `workers` child processes (thread i goes to worker i % n);
    each sends its own tally last."""
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
                    if fmt.tally is not None:
                        writer.send(_tally_item(fmt))

                run_forked_child(writer, work)
            writer.close()
            children.append((pid, reader))
        yield from received_from([r for _, r in children])
    finally:
        reap(children)
