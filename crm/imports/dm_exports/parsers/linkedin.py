"""LinkedIn messages.csv: one row per message, rows of a conversation anywhere in the file."""
from __future__ import annotations

import csv
from array import array
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from .base import ExportError, ExportSource, Participant, Record
from .text import normalise_url

REQUIRED = ("CONVERSATION ID", "FROM", "DATE")
DRAFT_COLUMNS = ("IS MESSAGE DRAFT", "IS CONVERSATION DRAFT")
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")

# Some bodies are long posts; the stdlib default of 128 KiB per field is too small.
csv.field_size_limit(max(csv.field_size_limit(), 32 * 1024 * 1024))


def header_of(path: Path) -> list[str] | None:
    """Upper-cased header names when the first line parses as CSV, else None."""
    try:
        with open(path, "r", encoding="utf-8-sig", newline="") as fh:
            first = next(csv.reader(fh), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    return [h.strip().upper() for h in first] if first else None


def is_messages_csv(path: Path) -> bool:
    """The conversation columns are what make a LinkedIn messages file."""
    header = header_of(path)
    return bool(header) and all(col in header for col in REQUIRED + ("CONTENT",))


def rows_from(path: Path, rel: str) -> Iterator[tuple[int, int, list[str]]]:
    """(byte offset, line number, row) for every row; offsets let messages() seek back."""
    with open(path, "rb") as fh:
        yield from _rows(fh, rel, 0, 1)


def _rows(fh, rel: str, start: int, first_line: int) -> Iterator[tuple[int, int, list[str]]]:
    fh.seek(start)
    pos, line_no = start, first_line - 1

    def lines():
        nonlocal pos, line_no
        for raw in iter(fh.readline, b""):
            pos += len(raw)
            line_no += 1
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ExportError(rel, f"line {line_no}: not UTF-8 text") from None
            yield text.lstrip("\ufeff") if line_no == 1 else text

    row_start, row_line = start, first_line
    try:
        for row in csv.reader(lines()):
            yield row_start, row_line, row
            row_start, row_line = pos, line_no + 1
    except csv.Error as exc:
        raise ExportError(rel, f"line {line_no}: malformed CSV ({exc})") from None


class LinkedInSource(ExportSource):
    """Rows are indexed by byte offset per conversation; nothing else is kept in memory."""

    platform = "linkedin"
    layout = "linkedin-csv"

    def __init__(self, root, *, path: Path, profile: Path | None = None, **kw):
        super().__init__(root, **kw)
        self._path = path
        self._rel = self._relname(path)
        self._profile = profile
        self._cols: dict[str, int] = {}
        self._people: dict[tuple, Participant] = {}

    def _scan(self) -> None:
        if self._profile is not None:
            self._read_profile(self._profile)
        with closing(rows_from(self._path, self._rel)) as rows:
            convs = self._index(rows)
        everywhere = self._in_every_conversation(convs)
        for cid, conv in convs.items():
            others = [p.name for p in conv["people"].values()
                      if p.name.casefold() not in everywhere]
            title = conv["title"] or conv["subject"] or ", ".join(others) or cid
            self._add_thread((conv["offsets"], conv["lines"]), key=cid, title=title,
                             declared=list(conv["people"].values()), folder=conv["folder"])

    def _index(self, rows) -> dict[str, dict]:
        """First pass: per conversation, where its rows start and who is in it."""
        header = next(rows, None)
        if header is None:
            raise ExportError(self._rel, "empty file")
        self._cols = {name.strip().upper(): i for i, name in enumerate(header[2])}
        missing = [c for c in REQUIRED + ("CONTENT",) if c not in self._cols]
        if missing:
            raise ExportError(self._rel, f"missing column(s): {', '.join(missing)}")
        convs: dict[str, dict] = {}
        for offset, line, row in rows:
            if not row or not any(cell.strip() for cell in row):
                continue
            cid = self._cell(row, "CONVERSATION ID")
            if not cid:
                raise ExportError(self._rel, f"line {line}: empty CONVERSATION ID")
            conv = convs.get(cid)
            if conv is None:
                conv = convs[cid] = {"offsets": array("q"), "lines": array("q"), "title": "",
                                     "subject": "", "folder": None, "people": {}}
            conv["offsets"].append(offset)
            conv["lines"].append(line)
            conv["title"] = conv["title"] or self._cell(row, "CONVERSATION TITLE")
            conv["subject"] = conv["subject"] or self._cell(row, "SUBJECT")
            conv["folder"] = conv["folder"] or self._cell(row, "FOLDER") or None
            self._note_people(conv["people"], row)
        return convs

    def _in_every_conversation(self, convs: dict) -> set[str]:
        """Names to leave out of made-up titles: the stated owner, or whoever is in all of them."""
        if self.detected_me:
            return {self.detected_me.casefold()}
        if len(convs) < 2:
            return set()
        common = None
        for conv in convs.values():
            names = {p.name.casefold() for p in conv["people"].values()}
            common = names if common is None else common & names
        # Two people in every conversation leaves the owner unknown: keep every name then.
        return common if common and len(common) == 1 else set()

    def _read_profile(self, path: Path) -> None:
        """Profile.csv states the owner's name; the most frequent sender would only be a guess."""
        rel = self._relname(path)
        with closing(rows_from(path, rel)) as rows:
            header = next(rows, None)
            first = next(rows, None)
        if header is None or first is None:
            return
        cols = {name.strip().upper(): i for i, name in enumerate(header[2])}
        parts = [first[2][cols[c]].strip() for c in ("FIRST NAME", "LAST NAME")
                 if c in cols and cols[c] < len(first[2])]
        name = " ".join(p for p in parts if p)
        if name:
            self.detected_me = name
            self.me_aliases = [name]

    def _cell(self, row: list[str], col: str) -> str:
        i = self._cols.get(col)
        return row[i].strip() if i is not None and i < len(row) else ""

    def _raw_cell(self, row: list[str], col: str) -> str:
        i = self._cols.get(col)
        return row[i] if i is not None and i < len(row) else ""

    def _note_people(self, people: dict, row: list[str]) -> None:
        sender = self._sender(row)
        people.setdefault(sender.profile_url or sender.name, sender)
        names = [n.strip() for n in self._cell(row, "TO").split(",")]
        urls = [normalise_url(u) for u in self._cell(row, "RECIPIENT PROFILE URLS").split(",")]
        if len(urls) != len(names):
            # A name with a comma in it breaks the pairing; keep names only then.
            urls = [None] * len(names)
        for name, url in zip(names, urls):
            if name or url:
                people.setdefault(url or name, Participant(name or url, profile_url=url))

    def _sender(self, row: list[str]) -> Participant:
        url = normalise_url(self._cell(row, "SENDER PROFILE URL"))
        name = self._cell(row, "FROM")
        # One object per person, so per-sender work in the base runs once, not per row.
        person = self._people.get((name, url))
        if person is None:
            person = self._people[(name, url)] = Participant(name or url or "Unknown",
                                                             profile_url=url)
        return person

    def _records(self, ref: tuple[array, array], day_first):
        offsets, lines = ref
        with open(self._path, "rb") as fh:
            for n, (offset, line) in enumerate(zip(offsets, lines)):
                _, _, row = next(_rows(fh, self._rel, offset, line))
                rec = self._row_record(row, line, n)
                if rec is not None:
                    yield rec

    def _row_record(self, row: list[str], line: int, n: int) -> Record | None:
        if any(self._cell(row, col).lower() in ("yes", "true") for col in DRAFT_COLUMNS):
            return None
        when = _parse_date(self._cell(row, "DATE"), self._rel, line)
        body = self._raw_cell(row, "CONTENT").strip()
        attachments = self._cell(row, "ATTACHMENTS")
        media = None
        if attachments:
            media = "photo" if "/image/" in attachments.lower() else "file"
        elif not body:
            # An empty CONTENT is a message whose attachment the export left out, whether or
            # not the layout has an ATTACHMENTS column: media-only, kind unknown.
            media = "media"
        # The file lists newest first; -n keeps that order reversed for same-second rows.
        return Record((when, -n), when, self._sender(row), body, media)


def _parse_date(value: str, rel: str, line: int) -> datetime:
    text = value.strip()
    if text.upper().endswith(" UTC"):
        text = text[:-4].strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    raise ExportError(rel, f"line {line}: invalid DATE {value!r}")
