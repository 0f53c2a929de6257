"""WhatsApp "Export chat" text files from Android and iOS, read line by line."""
from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Iterable, Iterator

from .base import ExportError, ExportSource, Participant, Record
from .text import local_to_utc, media_kind_from_name

LRM = "\u200e"
_DATE = r"(?P<a>\d{1,4})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{1,4})"
_TIME = (r"(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?:[:.](?P<s>\d{2}))?"
         r"(?:\s?(?P<ampm>[AaPp])\.?\s?[Mm]\.?)?")
# Android: "12/03/2024, 14:05 - Name: text"; "3/9/24, 7:45\u202fPM - Name: text".
ANDROID = re.compile(rf"{_DATE},?\s{_TIME}\s[-\u2013]\s(?P<rest>.*)", re.S)
# iOS: "[14/03/2024, 09:21:02] Name: text".
IOS = re.compile(rf"\[{_DATE},?\s{_TIME}\]\s(?P<rest>.*)", re.S)

TITLE_FROM_NAME = re.compile(
    r"(?:WhatsApp Chat with|WhatsApp Chat -|WhatsApp-Chat mit|Chat de WhatsApp con"
    r"|Conversa do WhatsApp com|Discussion WhatsApp avec|Chat WhatsApp con) (?P<title>.+)",
    re.I)
DELETED = {"This message was deleted", "You deleted this message",
           "This message was deleted.", "You deleted this message."}
EDITED = "<This message was edited>"
MEDIA_OMITTED = {"<Media omitted>", "<Medien ausgeschlossen>", "<Multimedia omitido>",
                 "<Médias omis>", "<Mídia oculta>"}
FILE_ATTACHED = re.compile(r"(?P<file>\S.*?\.\w{2,5}) \((?:file attached|Datei angehängt|"
                           r"archivo adjunto|fichier joint|arquivo anexado|file allegato)\)")
IOS_ATTACHED = re.compile(r"<attached: (?P<file>[^>]+)>")
IOS_OMITTED = re.compile(r"(?:.*\s)?(?P<kind>image|video|audio|sticker|GIF|document|"
                         r"Contact card) omitted", re.S)
OMITTED_KIND = {"image": "photo", "video": "video", "audio": "audio", "sticker": "sticker",
                "GIF": "gif", "document": "file", "Contact card": "file"}
GROUP_SYSTEM = re.compile(r"\b(?:created group|created this group|added|removed|left"
                          r"|changed the subject|changed this group's|changed the group)\b")


def match_stamp(line: str):
    """The timestamp match of a message's first line (Android or iOS), else None."""
    line = line.lstrip("\ufeff" + LRM)
    return ANDROID.match(line) or IOS.match(line)


# Media WhatsApp names by the day it arrived: IMG-20231102-WA0012.jpg (Android),
# 00000012-PHOTO-2023-11-02-14-05-33.jpg (iOS).
MEDIA_DATE = re.compile(r"\b(?:IMG|VID|AUD|PTT|STK|DOC)-(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})-WA\d"
                        r"|\b\d+-(?:PHOTO|VIDEO|AUDIO|STICKER|GIF|DOCUMENT)-(?P<y2>\d{4})-"
                        r"(?P<m2>\d{2})-(?P<d2>\d{2})\b")


def whatsapp_date_order(lines: Iterable[str]) -> bool | None:
    """True if dates are day-first, False if month-first, None if the file cannot tell.

    Evidence, strongest first: a day above 12; a media file named after its date on a line
    of that date; an order under which a date does not exist or the file goes back in time
    by more than a day (a phone's clock changes by hours, not days)."""
    last = {True: None, False: None}
    broken = {True: False, False: False}
    for line in lines:
        m = match_stamp(line)
        if not m or len(m["a"]) == 4:
            continue
        a, b = int(m["a"]), int(m["b"])
        if a > 12 >= b:
            return True
        if b > 12 >= a:
            return False
        if a != b and (named := MEDIA_DATE.search(m["rest"])):
            month = int(named["m"] or named["m2"])
            day = int(named["d"] or named["d2"])
            if (a, b) == (day, month):
                return True
            if (a, b) == (month, day):
                return False
        year = int(m["c"])
        year += 2000 if year < 100 else 0
        for day_first in (True, False):
            if broken[day_first]:
                continue
            day, month = (a, b) if day_first else (b, a)
            try:
                ordinal = date(year, month, day).toordinal()
            except ValueError:
                broken[day_first] = True
                continue
            if last[day_first] is not None and ordinal < last[day_first] - 1:
                broken[day_first] = True
            last[day_first] = ordinal
    if broken[True] != broken[False]:
        return broken[False]
    return None


def sniff(path: Path) -> str | None:
    """'android' or 'ios' when one of the first lines is a WhatsApp message line."""
    try:
        with open(path, "r", encoding="utf-8-sig", errors="strict") as fh:
            for _ in range(20):
                line = fh.readline(4096)
                if not line:
                    break
                stripped = line.lstrip("\ufeff" + LRM)
                if IOS.match(stripped):
                    return "ios"
                if ANDROID.match(stripped):
                    return "android"
    except (OSError, UnicodeDecodeError):
        return None
    return None


class ChatRef:
    """One chat file and what the first pass learnt about it."""

    __slots__ = ("path", "kind", "day_first", "group_hint", "chat_name")

    def __init__(self, path: Path, kind: str):
        self.path = path
        self.kind = kind
        self.day_first: bool | None = None
        self.group_hint = False
        self.chat_name: str | None = None


class WhatsAppSource(ExportSource):
    """One thread per chat file; times are the phone's local time, converted with tz."""

    platform = "whatsapp"
    _time_sorted = False          # records sort by line: the phone's clock may go back

    def __init__(self, root, *, files: list[tuple[Path, str]], **kw):
        super().__init__(root, **kw)
        kinds = {kind for _, kind in files}
        self.layout = f"whatsapp-{kinds.pop()}" if len(kinds) == 1 else "whatsapp-mixed"
        self._files = files
        self._people: dict[str, Participant] = {}

    def _scan(self) -> None:
        for path, kind in self._files:
            ref = ChatRef(path, kind)
            rel = self._relname(path)
            ref.day_first = whatsapp_date_order(self._lines(path, rel))
            title, key = self._naming(ref, rel)
            if key in self._refs:
                key = rel  # two copies of one chat in a folder: keep both, apart
            self._add_thread(ref, key=key, title=title, day_first=ref.day_first,
                             describe=lambda r=ref: {"is_group": True} if r.group_hint else {})

    def _naming(self, ref: ChatRef, rel: str) -> tuple[str, str]:
        named = TITLE_FROM_NAME.fullmatch(ref.path.stem)
        if named:
            return named["title"].strip(), ref.path.name
        # iOS calls every chat _chat.txt; the zip's name or the chat name on the first
        # (encryption notice) line tells them apart, the same way on every re-export.
        title = None
        for name in (ref.path.parent.name, Path(self.label).stem):
            named = TITLE_FROM_NAME.fullmatch(name)
            if named:
                title = named["title"].strip()
                break
        else:
            title = self._first_speaker(ref.path, rel)
        if title:
            return title, f"WhatsApp Chat - {title}"
        return ref.path.stem, rel

    def _first_speaker(self, path: Path, rel: str) -> str | None:
        for n, line in enumerate(self._lines(path, rel)):
            if n > 5:
                break
            m = match_stamp(line)
            if m and f": {LRM}" in m["rest"]:
                return m["rest"].split(f": {LRM}", 1)[0].strip() or None
        return None

    def _lines(self, path: Path, rel: str) -> Iterator[str]:
        try:
            # newline=None folds CRLF; str.splitlines would also split on U+2028 inside text.
            with open(path, "r", encoding="utf-8-sig", newline=None) as fh:
                for line in fh:
                    yield line.rstrip("\n")
        except UnicodeDecodeError as exc:
            raise ExportError(rel, f"not UTF-8 text (byte {exc.start})") from None
        except OSError as exc:
            raise ExportError(rel, f"cannot read file ({exc.strerror or exc})") from None

    def _entries(self, path: Path, rel: str):
        """(line number, stamp match, text with continuation lines) per timestamped line."""
        current = None
        for line_no, line in enumerate(self._lines(path, rel), 1):
            m = match_stamp(line)
            if m:
                if current is not None:
                    yield current[0], current[1], "\n".join(current[2])
                current = (line_no, m, [m["rest"]])
            elif current is not None:
                current[2].append(line)
        if current is not None:
            yield current[0], current[1], "\n".join(current[2])

    def _reads_differently(self, ref: ChatRef, day_first: bool | None) -> bool:
        # The spool was read day-first; only an ambiguous file asked month-first differs.
        return ref.day_first is None and day_first is False

    def _records(self, ref: ChatRef, day_first):
        rel = self._relname(ref.path)
        order = ref.day_first if ref.day_first is not None else day_first
        # Ambiguous files (no day above 12) and no answer from the caller: day-first, the
        # order most of the world's phones use.
        order = True if order is None else order
        for line_no, m, text in self._entries(ref.path, rel):
            parsed = self._message(ref, text)
            if parsed is None:
                continue
            sender, body, media = parsed
            naive = _stamp_time(m, order, rel, line_no)
            # File order is the phone's order, even across a clock change.
            yield Record((line_no,), local_to_utc(naive, self.tz), sender, body, media,
                         clock=naive.isoformat())

    def _message(self, ref: ChatRef, text: str):
        """(sender, body, media) or None for system, deleted and empty lines."""
        sender, sep, body = text.partition(": ")
        if text.startswith(LRM) or not sep or not _plausible_sender(sender):
            if GROUP_SYSTEM.search(text):
                ref.group_hint = True
            return None
        first, _, rest = body.partition("\n")
        plain = first.lstrip(LRM).strip()
        if plain in DELETED:
            return None
        media = None
        if plain in MEDIA_OMITTED:
            media, first = "media", ""
        elif (found := FILE_ATTACHED.fullmatch(plain) or IOS_ATTACHED.fullmatch(plain)):
            media, first = media_kind_from_name(found["file"]), ""
        elif first.startswith(LRM) and (found := IOS_OMITTED.fullmatch(plain)):
            media, first = OMITTED_KIND[found["kind"]], ""
        elif first.startswith(LRM):
            # iOS marks its own notices (encryption, missed calls) with U+200E.
            return None
        body = f"{first}\n{rest}" if rest else first
        body = body.strip()
        if body.endswith(EDITED):
            body = body[: -len(EDITED)].rstrip().rstrip(LRM).rstrip()
        if not body and not media:
            return None
        person = self._people.get(sender)
        if person is None:
            person = self._people[sender] = Participant(sender)
        return person, body, media


def _plausible_sender(name: str) -> bool:
    """A system line can contain ': ' inside quotes; a contact name is short and unquoted."""
    return 0 < len(name) <= 80 and "\n" not in name and not any(q in name for q in "\"“”")


def _stamp_time(m, day_first: bool, rel: str, line_no: int) -> datetime:
    a, b, c = m["a"], int(m["b"]), m["c"]
    if len(a) == 4:
        year, month, day = int(a), b, int(c)
    elif day_first:
        day, month, year = int(a), b, int(c)
    else:
        month, day, year = int(a), b, int(c)
    if year < 100:
        year += 2000
    hour, minute, second = int(m["h"]), int(m["mi"]), int(m["s"] or 0)
    ampm = (m["ampm"] or "").lower()
    if ampm:
        hour = hour % 12 + (12 if ampm == "p" else 0)
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise ExportError(rel, f"line {line_no}: invalid date or time") from None
