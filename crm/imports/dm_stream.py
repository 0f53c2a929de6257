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
import signal
import traceback
from datetime import timezone
from pathlib import Path
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.connection import wait as wait_for

from crm.imports.parsers import ExportError

BATCH = 5000


def pack_message(m, sent_at_to_db):
    """(sent_at as the database stores it, body, media, external id, fingerprint,
    outbound?, sender name) — what the writer needs and nothing else."""
    at = m.sent_at
    if at.tzinfo is not None:
        at = at.astimezone(timezone.utc).replace(tzinfo=None)
    body = m.body if "\x00" not in m.body else m.body.replace("\x00", "")
    return (sent_at_to_db(at) if sent_at_to_db else at, body, m.media, m.external_id,
            m.fingerprint, m.is_outbound, (m.sender.name or "")[:200])


class RowFormat:
    """How rows leave the reader. Threads whose conversation is already known (and whose
    messages are all new) come as finished `messages` rows, so the writer only inserts them;
    the others come packed, for the writer to check against what is stored."""

    def __init__(self, to_db, known: dict[int, tuple] | None = None):
        self.to_db = to_db
        self.known = known or {}   # thread index → (conversation id, author id, import id, now)


def _thread_batches(source, index, thread, me, day_first, fmt: RowFormat):
    """(rows, finished?) batches of one thread."""
    known = fmt.known.get(index)
    batch = []
    for m in source.messages(thread, me, whatsapp_day_first=day_first):
        p = pack_message(m, fmt.to_db)
        if known is not None:
            conv, author, run_id, now = known
            out = p[5]
            p = (conv, "out" if out else "in", p[0], p[1], p[2], author if out else None, p[6],
                 p[3], p[4], run_id, now)
        batch.append(p)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    yield batch


def _thread_items(source, index, thread, me, day_first, fmt):
    """(index, rows, last?, finished?) items of one thread."""
    finished = index in fmt.known
    pending = None
    for batch in _thread_batches(source, index, thread, me, day_first, fmt):
        if pending is not None:
            yield index, pending, False, finished
        pending = batch
    yield index, pending or [], True, finished


def in_line(source, threads, me, day_first, fmt: RowFormat):
    """Yield (index, rows, last?, finished?) for each thread in turn."""
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
                code = 0
                try:
                    reader.close()
                    for i in range(w, len(threads), workers):
                        for item in _thread_items(source, i, threads[i], me, day_first, fmt):
                            writer.send(item)
                    writer.send(None)
                except ExportError as exc:
                    writer.send(("error", exc.filename, exc.reason))
                except BaseException as exc:  # noqa: BLE001 - reported to the parent
                    try:
                        where = traceback.extract_tb(exc.__traceback__)[-1]
                        writer.send(("crash", f"{type(exc).__name__}: {exc} "
                                              f"({Path(where.filename).name}:{where.lineno})"))
                    except BaseException:
                        code = 1
                finally:
                    os._exit(code)
            writer.close()
            children.append((pid, reader))
        open_readers = [r for _, r in children]
        while open_readers:
            for reader in wait_for(open_readers):
                try:
                    item = reader.recv()
                except EOFError:
                    raise RuntimeError("an export reader stopped unexpectedly") from None
                if item is None:
                    open_readers.remove(reader)
                elif item[0] == "error":
                    raise ExportError(item[1], item[2])
                elif item[0] == "crash":
                    raise RuntimeError(f"reading the export failed: {item[1]}")
                else:
                    yield item
    finally:
        for pid, reader in children:
            reader.close()
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
