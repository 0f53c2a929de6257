"""Shared types of the DM-export parsers and the ExportSource every platform builds on."""
from __future__ import annotations

import os
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from hashlib import sha1
from operator import attrgetter
from pathlib import Path
from typing import Iterable, Iterator
from zoneinfo import ZoneInfo

from .text import normalise_identity

_ORDER = attrgetter("order")
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

    __slots__ = ("order", "ts", "clock", "sender", "body", "media", "external_id", "group")

    def __init__(self, order, sent_at, sender, body, media=None, external_id=None,
                 clock=None, group=0):
        self.order = order            # sort key giving oldest-first, ties in platform order
        self.ts = sent_at             # aware UTC datetime, or epoch ms converted on first use
        self.clock = clock            # wall-clock iso for zone-less platforms (fingerprint)
        self.sender = sender
        self.body = body
        self.media = media
        self.external_id = external_id
        self.group = group            # which copy of the thread (inbox vs archived) it came from

    @property
    def sent_at(self) -> datetime:
        ts = self.ts
        if ts.__class__ is int:
            # Exact for millisecond values (checked against EPOCH + timedelta), and cheaper.
            ts = self.ts = datetime.fromtimestamp(ts / 1000, timezone.utc)
        return ts


def fingerprint(platform: str, key: str, sender: Participant, when: str, body: str,
                media: str | None, ordinal: int = 0) -> str:
    """Stable sha1 of what identifies a message across re-exports."""
    parts = [platform, key, sender.account_id or sender.name, when, body, media or ""]
    if ordinal:
        parts.append(str(ordinal))
    return sha1("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


class ExportSource:
    """An opened export: thread summaries, then each thread's messages oldest first."""

    platform: str = ""
    layout: str = ""

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

    # -- lifecycle ---------------------------------------------------------------------
    def close(self) -> None:
        """Remove the extraction folder, if any."""
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
        outbound: dict[Participant, bool] = {}
        for rec, fp in self._finalised(thread.key, ref, whatsapp_day_first):
            sender = rec.sender
            is_out = outbound.get(sender)
            if is_out is None:
                is_out = outbound[sender] = bool(sender.identities() & me_keys)
            yield ParsedMessage(sender, rec.sent_at, rec.body, rec.media, rec.external_id,
                                fp, is_out)

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
        """Summarise one thread with the same records messages() will use."""
        # describe() returns title/declared/is_group/folder learnt while reading the files.
        senders: dict[Participant, int] = {}
        count, first, last = 0, None, None
        if self._may_repeat(ref):
            stream = (rec for rec, _fp in self._finalised(key, ref, day_first))
        else:
            # Nothing can be dropped as a duplicate, so skip sorting and hashing here.
            stream = self._records(ref, day_first)
        for rec in stream:
            count += 1
            if first is None or rec.order < first.order:
                first = rec
            if last is None or rec.order > last.order:
                last = rec
            senders[rec.sender] = senders.get(rec.sender, 0) + 1
        for s, sent in senders.items():
            self._sent_counts[s.name] += sent
        if count == 0:
            return  # only drafts, reactions or system lines: nothing to import
        if describe is not None:
            info = describe()
            title = info.get("title", title)
            declared = info.get("declared", declared)
            is_group = info.get("is_group", is_group)
            folder = info.get("folder", folder)
        people: dict[str, Participant] = {}
        for p in list(declared) + list(senders):
            people.setdefault(p.account_id or p.profile_url or p.name, p)
        if is_group is None:
            is_group = len(people) > 2
        self._refs[key] = ref
        self._threads.append(ParsedThread(
            platform=self.platform, key=key, title=title, participants=list(people.values()),
            is_group=is_group, message_count=count, first_at=first.sent_at,
            last_at=last.sent_at,
            folder=folder, day_first=day_first))

    def _may_repeat(self, ref) -> bool:
        """True when the thread has several copies whose shared messages must be dropped."""
        return False

    def _finalised(self, key: str, ref, day_first) -> Iterator[tuple[Record, str]]:
        """Sort oldest first, fingerprint, and drop the same message seen in another copy."""
        # Hashes exactly what fingerprint() hashes, inlined: this runs once per message.
        records = list(self._records(ref, day_first))
        records.sort(key=_ORDER)
        copies = self._may_repeat(ref)
        seen: dict = {}
        emitted: set[str] = set()
        heads: dict[Participant, str] = {}
        thread_head = f"{self.platform}\x1f{key}\x1f"
        for rec in records:
            sender = rec.sender
            head = heads.get(sender)
            if head is None:
                head = heads[sender] = f"{thread_head}{sender.account_id or sender.name}\x1f"
            when = rec.clock or rec.sent_at.isoformat()
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


def open_export(path: str | os.PathLike, *, max_total_bytes: int = 2_000_000_000,
                max_ratio: float = 200, max_members: int = 200_000, tz: str = "UTC",
                platform: str | None = None) -> ExportSource:
    """Open a platform's zip, a folder from it, or one file; detect platform and layout."""
    from .detect import open_export as _open

    return _open(path, max_total_bytes=max_total_bytes, max_ratio=max_ratio,
                 max_members=max_members, tz=tz, platform=platform)
