"""Shared types of the DM-export parsers and the ExportSource every platform builds on."""
from __future__ import annotations

import heapq
import marshal
import os
import pickle
import shutil
import signal
import struct
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from hashlib import sha1
from operator import attrgetter
from pathlib import Path
from typing import Iterable, Iterator
from zoneinfo import ZoneInfo

from .text import normalise_identity

_ORDER = attrgetter("order")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
ONE_MICROSECOND = timedelta(microseconds=1)
PLATFORMS = ("instagram", "facebook", "x", "linkedin", "whatsapp", "tiktok")


class ExportError(Exception):
    """A malformed or unknown file; str(e) names the file and what was wrong."""

    def __init__(self, filename: str, reason: str):
        super().__init__(f"{filename}: {reason}")
        self.filename = filename
        self.reason = reason


@dataclass(frozen=True)
class Participant:
    """One person in a thread, as the export names them."""

    name: str
    handle: str | None = None
    profile_url: str | None = None
    account_id: str | None = None

    def identities(self) -> set[str]:
        """Every casefolded string that may name this person."""
        keys = {self.name.casefold()} if self.name else set()
        for value in (self.handle, self.account_id, self.profile_url):
            if value:
                keys.add(normalise_identity(value))
        return keys


@dataclass(slots=True)
class ParsedMessage:
    """One real message (no reactions, system lines, unsent messages or drafts)."""

    sender: Participant
    sent_at: datetime
    body: str
    media: str | None
    external_id: str | None
    fingerprint: str
    is_outbound: bool


@dataclass
class ParsedThread:
    """Summary of one conversation; message_count is what messages() will yield (> 0)."""

    platform: str
    key: str
    title: str
    participants: list[Participant]
    is_group: bool
    message_count: int
    first_at: datetime | None
    last_at: datetime | None
    # Where the platform filed it: inbox, message_requests, archived_threads, ARCHIVE, ...
    folder: str | None = None
    # WhatsApp only: True/False when the file shows the date order, None when it cannot.
    day_first: bool | None = None

    def counterparts(self, me: str) -> list[Participant]:
        """Participants other than me (matched on name, handle, account id or profile URL)."""
        keys = {normalise_identity(me)}
        return [p for p in self.participants if not (p.identities() & keys)]


class Record:
    """A normalised message before sorting, dedup and fingerprinting."""

    __slots__ = ("order", "ms", "dt", "clock", "sender", "body", "media", "external_id",
                 "group")

    def __init__(self, order, sent_at, sender, body, media=None, external_id=None,
                 clock=None, group=0):
        self.order = order            # sort key giving oldest-first, ties in platform order
        # sent_at is an aware UTC datetime, or epoch ms (Meta) turned into one on first use.
        if sent_at.__class__ is int:
            self.ms, self.dt = sent_at, None
        else:
            self.ms, self.dt = None, sent_at
        self.clock = clock            # wall-clock iso for zone-less platforms (fingerprint)
        self.sender = sender
        self.body = body
        self.media = media
        self.external_id = external_id
        self.group = group            # which copy of the thread (inbox vs archived) it came from

    @property
    def sent_at(self) -> datetime:
        dt = self.dt
        if dt is None:
            # Exact for millisecond values (checked against EPOCH + timedelta), and cheaper.
            dt = self.dt = datetime.fromtimestamp(self.ms / 1000, timezone.utc)
        return dt


def _micros(rec: Record) -> int:
    """Epoch microseconds of a record, exactly (the spool stores plain ints)."""
    if rec.ms is not None:
        return rec.ms * 1000
    return (rec.dt - EPOCH) // ONE_MICROSECOND


def fingerprint(platform: str, key: str, sender: Participant, when: str, body: str,
                media: str | None, ordinal: int = 0) -> str:
    """Stable sha1 of what identifies a message across re-exports."""
    parts = [platform, key, sender.account_id or sender.name, when, body, media or ""]
    if ordinal:
        parts.append(str(ordinal))
    return sha1("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


class ExportSource:
    """An opened export: thread summaries, then each thread's messages oldest first."""

    # Opening reads every file once, sorts and fingerprints each thread, and writes the
    # finished messages to an unnamed temp file (the spool); messages() replays it, so a
    # million messages are parsed once and never held in memory together.

    platform: str = ""
    layout: str = ""
    # True when a thread's records sort by time first (all but WhatsApp, sorted by line).
    _time_sorted = True

    def __init__(self, root: Path, *, tz: ZoneInfo, label: str, tmpdir: str | None = None):
        self.root = Path(root)
        self.tz = tz
        self.label = label            # the uploaded file's name, used in error messages
        self.detected_me: str | None = None
        # Every name the owner goes by when the export states them (X: id, @name, display name).
        self.me_aliases: list[str] = []
        self._tmpdir = tmpdir
        self._threads: list[ParsedThread] = []
        self._refs: dict[str, object] = {}
        self._sent_counts: Counter[str] = Counter()
        self._spool = None
        self._spool_fd: int | None = None
        # key → (spool descriptor, offset, size, senders)
        self._spooled: dict[str, tuple[int, int, int, list[Participant]]] = {}
        self._extra_spools: list = []     # the spools of parallel readers (see _add_threads)
        # Processes that may read the files when the export is opened (the command line
        # asks for 2; the web process never forks).
        self.scan_workers = 0

    # -- lifecycle ---------------------------------------------------------------------
    def close(self) -> None:
        """Remove the extraction folder and the spool, if any."""
        self._spool_fd = None
        if self._spool is not None:
            self._spool.close()
            self._spool = None
        for spool in self._extra_spools:
            spool.close()
        self._extra_spools = []
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> "ExportSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    # -- public API --------------------------------------------------------------------
    def threads(self) -> Iterator[ParsedThread]:
        """Thread summaries, computed once when the export was opened."""
        return iter(self._threads)

    def candidates_for_me(self) -> list[str]:
        """Participant names seen, in the most threads first (then most messages sent)."""
        in_threads: Counter[str] = Counter()
        for thread in self._threads:
            for name in {p.name for p in thread.participants}:
                in_threads[name] += 1
        return sorted(in_threads, key=lambda n: (-in_threads[n], -self._sent_counts[n], n))

    def messages(self, thread: ParsedThread, me: str, *,
                 whatsapp_day_first: bool | None = None) -> Iterator[ParsedMessage]:
        """The thread's real messages, oldest first, with direction set against me."""
        # whatsapp_day_first is only used when the chat file cannot tell (thread.day_first is
        # None); if it is None too, dates are read day-first, as most of the world writes them.
        ref = self._ref(thread)
        me_keys = self._me_keys(me)
        if not self._reads_differently(ref, whatsapp_day_first):
            yield from self._spooled_messages(thread.key, me_keys)
            return
        outbound: dict[Participant, bool] = {}
        for rec, fp in self._finalised(thread.key, ref, whatsapp_day_first):
            sender = rec.sender
            is_out = outbound.get(sender)
            if is_out is None:
                is_out = outbound[sender] = bool(sender.identities() & me_keys)
            yield ParsedMessage(sender, rec.sent_at, rec.body, rec.media, rec.external_id,
                                fp, is_out)

    def _spooled_messages(self, key: str, me_keys: set[str]) -> Iterator[ParsedMessage]:
        """Replay what the opening pass worked out, instead of parsing the files again."""
        if self._spool_fd is None and not self._extra_spools:
            raise ValueError("this export has been closed")
        fd, offset, size, senders = self._spooled[key]
        outbound = [bool(p.identities() & me_keys) for p in senders]
        from_ts, utc = datetime.fromtimestamp, timezone.utc
        for rows in _spooled_chunks(fd, offset, size):
            for micros, who, body, media, external_id, fp in rows:
                # Exact to the microsecond for any date up to 2100 (checked against
                # EPOCH + timedelta on a million random values).
                yield ParsedMessage(senders[who], from_ts(micros / 1_000_000, utc), body,
                                    media, external_id, fp, outbound[who])

    # -- for subclasses ----------------------------------------------------------------
    def _scan(self) -> None:
        """Fill self._threads and self._refs (reads every file, raising ExportError)."""
        raise NotImplementedError

    def _records(self, ref, day_first: bool | None) -> Iterable[Record]:
        """Normalised records of one thread in any order, filters already applied."""
        raise NotImplementedError

    def _relname(self, path: Path) -> str:
        """A path as the user knows it: relative to the export root."""
        try:
            rel = Path(path).relative_to(self.root).as_posix()
        except ValueError:
            rel = Path(path).name
        return rel if rel not in ("", ".") else self.label

    def _add_thread(self, ref, *, key: str, describe=None, title: str = "",
                    declared: Iterable[Participant] = (), is_group: bool | None = None,
                    folder: str | None = None, day_first: bool | None = None) -> None:
        """Summarise one thread and spool its finished messages for messages()."""
        # describe() returns title/declared/is_group/folder learnt while reading the files.
        # Keyed by id(): a Participant's generated __hash__ costs more than the rest of the
        # loop, and the records keep every sender alive while this runs.
        index: dict[int, int] = {}
        senders: list[Participant] = []
        sent: list[int] = []
        rows = []
        count = size = 0
        first = last = None
        start = self._spool_end()
        for rec, fp in self._finalised(key, ref, day_first):
            who = index.get(id(rec.sender))
            if who is None:
                who = index[id(rec.sender)] = len(senders)
                senders.append(rec.sender)
                sent.append(0)
            sent[who] += 1
            if first is None:
                first = rec.sent_at
            last = rec
            rows.append((_micros(rec), who, rec.body, rec.media, rec.external_id, fp))
            size += len(rec.body)
            if len(rows) >= SPOOL_CHUNK_ROWS or size >= SPOOL_CHUNK_BYTES:
                # A thread of any length is written a bounded chunk at a time.
                count += len(rows)
                self._spool_chunk(rows)
                rows, size = [], 0
        count += len(rows)
        if not count:
            return  # only drafts, reactions or system lines: nothing to import
        if rows:
            self._spool_chunk(rows)
        for sender, n in zip(senders, sent):
            self._sent_counts[sender.name] += n
        self._spool.flush()  # readers use os.pread on the descriptor, not this buffer
        self._spooled[key] = (self._spool_fd, start, self._spool.tell() - start, senders)
        if describe is not None:
            info = describe()
            title = info.get("title", title)
            declared = info.get("declared", declared)
            is_group = info.get("is_group", is_group)
            folder = info.get("folder", folder)
        people: dict[str, Participant] = {}
        for p in list(declared) + senders:
            people.setdefault(p.account_id or p.profile_url or p.name, p)
        if is_group is None:
            is_group = len(people) > 2
        self._refs[key] = ref
        self._threads.append(ParsedThread(
            platform=self.platform, key=key, title=title, participants=list(people.values()),
            is_group=is_group, message_count=count, first_at=first,
            last_at=last.sent_at, folder=folder, day_first=day_first))

    def _add_threads(self, jobs: list[tuple[object, dict]], size: int = 0) -> None:
        """_add_thread(ref, **kw) for each job, in order. With scan_workers and an export of
        at least PARALLEL_SCAN_BYTES, forked processes read the threads (job i in worker
        i % n), each into a spool of its own, and send back what _add_thread learnt; the
        result is the same as reading them here, in the same order."""
        workers = min(self.scan_workers, len(jobs))
        if workers < 2 or size < PARALLEL_SCAN_BYTES or not _can_fork():
            for ref, kw in jobs:
                self._add_thread(ref, **kw)
            return
        spools = [tempfile.TemporaryFile(prefix="rapport-spool-") for _ in range(workers)]
        self._extra_spools.extend(spools)
        results: list = [None] * len(jobs)
        children = []
        try:
            for w in range(workers):
                reader, writer = _pipe()
                pid = os.fork()
                if pid == 0:
                    _scan_child(self, jobs, w, workers, spools[w], reader, writer)
                writer.close()
                children.append((pid, reader))
            # Drain every worker as it sends: reading one to its end first would leave the
            # others blocked on a full pipe, one worker at a time.
            for _, index, found in received_from([reader for _, reader in children]):
                results[index] = found
        finally:
            reap(children)
        for (ref, kw), found in zip(jobs, results):
            if found is None:
                continue   # nothing to import in that thread
            thread, spooled, sent = found
            self._spooled[thread.key] = spooled
            self._refs[thread.key] = ref
            self._threads.append(thread)
            for name, count in sent:
                self._sent_counts[name] += count

    def _spool_end(self) -> int:
        """Where the next thread's chunks will start in this process's spool."""
        # An unnamed temp file: the OS removes it even if the process dies.
        if self._spool is None:
            self._spool = tempfile.TemporaryFile(prefix="rapport-spool-")
            self._spool_fd = self._spool.fileno()
        self._spool.seek(0, os.SEEK_END)
        return self._spool.tell()

    def _spool_chunk(self, rows: list) -> None:
        """One length-prefixed marshal blob of rows, after the thread's previous ones."""
        blob = marshal.dumps(rows)
        self._spool.write(_LENGTH.pack(len(blob)))
        self._spool.write(blob)

    def _reads_differently(self, ref, day_first: bool | None) -> bool:
        """True when messages() must parse again (WhatsApp read with another date order)."""
        return False

    def _may_repeat(self, ref) -> bool:
        """True when the thread has several copies whose shared messages must be dropped."""
        return False

    def _finalised(self, key: str, ref, day_first) -> Iterator[tuple[Record, str]]:
        """Sort oldest first, fingerprint, and drop the same message seen in another copy."""
        # Hashes exactly what fingerprint() hashes, inlined: this runs once per message.
        copies = self._may_repeat(ref)
        seen: dict = {}
        emitted: set[str] = set()
        heads: dict[int, str] = {}
        thread_head = f"{self.platform}\x1f{key}\x1f"
        time_sorted = self._time_sorted
        last_when = None
        for rec in self._sorted_records(ref, day_first):
            sender = rec.sender
            head = heads.get(id(sender))
            if head is None:
                head = heads[id(sender)] = f"{thread_head}{sender.account_id or sender.name}\x1f"
            when = rec.clock or rec.sent_at.isoformat()
            if when != last_when:
                # Equal fingerprints need equal times, and records come in time order, so
                # what was seen at an earlier time can be forgotten (memory stays flat).
                # WhatsApp is in file order: its clock can repeat after a change of time,
                # so it forgets only when the table has grown large.
                if seen and (time_sorted or len(seen) > 200_000):
                    seen.clear()
                    emitted.clear()
                last_when = when
            text = f"{head}{when}\x1f{rec.body}\x1f{rec.media or ''}"
            fp = sha1(text.encode("utf-8", "surrogatepass")).hexdigest()
            # Identical messages in one copy (two "ok" in the same WhatsApp minute) stay
            # distinct by ordinal; identical ones from another copy of the thread are dupes.
            slot = (rec.group, fp) if copies else fp
            ordinal = seen.get(slot)
            if ordinal is None:
                seen[slot] = 1
            else:
                seen[slot] = ordinal + 1
                fp = sha1(f"{text}\x1f{ordinal}".encode("utf-8", "surrogatepass")).hexdigest()
            if copies:
                if fp in emitted:
                    continue
                emitted.add(fp)
            yield rec, fp

    def _sorted_records(self, ref, day_first) -> Iterator[Record]:
        """The thread's records oldest first. A thread too big to sort in memory is sorted
        in runs written to a temp file and merged back, a chunk of each run at a time."""
        batch: list[Record] = []
        size = 0
        runs: list = []
        senders: dict[int, int] = {}
        table: list[Participant] = []
        try:
            for rec in self._records(ref, day_first):
                batch.append(rec)
                size += len(rec.body)
                if len(batch) >= SORT_RUN_RECORDS or size >= SORT_RUN_BYTES:
                    batch.sort(key=_ORDER)
                    runs.append(_spill(batch, senders, table))
                    batch, size = [], 0
            batch.sort(key=_ORDER)
            if not runs:
                yield from batch
                return
            merged = [_replay(run, table) for run in runs] + [iter(batch)]
            yield from heapq.merge(*merged, key=_ORDER)
        finally:
            for run in runs:
                run.close()

    def _ref(self, thread: ParsedThread):
        try:
            return self._refs[thread.key]
        except KeyError:
            raise ValueError(f"thread {thread.key!r} does not belong to this export") from None

    def _me_keys(self, me: str) -> set[str]:
        keys = {normalise_identity(me)} if me else set()
        aliases = {normalise_identity(a) for a in self.me_aliases if a}
        if keys & aliases:
            keys |= aliases
        return keys


# Bounds on what one thread holds in memory while it is read, sorted and spooled: a 1 GB
# message file is sorted in runs of at most this many records or body characters.
SORT_RUN_RECORDS = 200_000
SORT_RUN_BYTES = 24 * 1024 * 1024
SPOOL_CHUNK_ROWS = 20_000
SPOOL_CHUNK_BYTES = 4 * 1024 * 1024
_LENGTH = struct.Struct("<Q")


def _spooled_chunks(fd: int, offset: int, size: int) -> Iterator[list]:
    """The row chunks a thread was spooled in; pread keeps no file position, so forked
    workers can share the spool safely."""
    end = offset + size
    while offset < end:
        (length,) = _LENGTH.unpack(os.pread(fd, _LENGTH.size, offset))
        offset += _LENGTH.size
        yield marshal.loads(os.pread(fd, length, offset))
        offset += length


def _spill(records: list[Record], senders: dict[int, int], table: list[Participant]):
    """Write sorted records to an unnamed temp file as pickled chunks; senders by number."""
    run = tempfile.TemporaryFile(prefix="rapport-sort-")
    chunk: list = []
    size = 0
    for rec in records:
        who = senders.get(id(rec.sender))
        if who is None:
            who = senders[id(rec.sender)] = len(table)
            table.append(rec.sender)
        chunk.append((rec.order, rec.ms if rec.ms is not None else rec.dt, who, rec.body,
                      rec.media, rec.external_id, rec.clock, rec.group))
        size += len(rec.body)
        if len(chunk) >= 2000 or size >= 512 * 1024:
            pickle.dump(chunk, run, protocol=pickle.HIGHEST_PROTOCOL)
            chunk, size = [], 0
    if chunk:
        pickle.dump(chunk, run, protocol=pickle.HIGHEST_PROTOCOL)
    run.seek(0)
    return run


def _replay(run, table: list[Participant]) -> Iterator[Record]:
    """The records of one spilled run, a chunk at a time."""
    while True:
        try:
            chunk = pickle.load(run)
        except EOFError:
            return
        for order, sent_at, who, body, media, external_id, clock, group in chunk:
            yield Record(order, sent_at, table[who], body, media, external_id, clock, group)


# Below this many bytes of files, reading in one process is as fast as forking readers.
PARALLEL_SCAN_BYTES = 16 * 1024 * 1024


def _can_fork() -> bool:
    from multiprocessing import get_all_start_methods

    return "fork" in get_all_start_methods()


def _pipe():
    from multiprocessing import get_context

    return get_context("fork").Pipe(duplex=False)


def receive(reader):
    """The next item a forked reader sent: None when it is done; its ExportError or crash
    raised here, in the parent."""
    try:
        item = reader.recv()
    except EOFError:
        raise RuntimeError("an export reader stopped unexpectedly") from None
    if item is not None and item[0] == "error":
        raise ExportError(item[1], item[2])
    if item is not None and item[0] == "crash":
        raise RuntimeError(f"reading the export failed: {item[1]}")
    return item


def received_from(readers: list):
    """Every item the forked readers send, taken from whichever has one, until all are done."""
    from multiprocessing.connection import wait

    open_readers = list(readers)
    while open_readers:
        for reader in wait(open_readers):
            item = receive(reader)
            if item is None:
                open_readers.remove(reader)
            else:
                yield item


def reap(children) -> None:
    """Close the pipes of forked readers, stop them and wait for them."""
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


def run_forked_child(writer, work) -> None:
    """The body of a forked reader: run `work()`, then send None. An ExportError is sent as
    ("error", file name, reason), anything else as ("crash", what and where). Never returns:
    the child leaves with os._exit, running none of the parent's cleanup."""
    import traceback

    code = 0
    try:
        work()
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


def _scan_child(source: ExportSource, jobs, w: int, workers: int, spool, reader, writer):
    """A forked reader: read every n-th thread into its own spool, send what was learnt
    ("found", job index, (thread, spool entry, sent counts)), then None; never returns."""
    def work():
        reader.close()
        source._spool, source._spool_fd = spool, spool.fileno()
        for index in range(w, len(jobs), workers):
            ref, kw = jobs[index]
            before = len(source._threads)
            source._sent_counts = Counter()
            source._add_thread(ref, **kw)
            if len(source._threads) == before:
                writer.send(("found", index, None))
                continue
            thread = source._threads[-1]
            writer.send(("found", index, (thread, source._spooled[thread.key],
                                          list(source._sent_counts.items()))))

    run_forked_child(writer, work)
