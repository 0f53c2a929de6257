"""Instagram and Facebook Messenger JSON exports: inbox/<folder>/message_N.json."""
from __future__ import annotations

import re
from pathlib import Path

from .base import ExportError, ExportSource, Participant, Record
from .files import STREAM_BYTES, file_size, json_items, json_outline, load_json
from .text import fix_mojibake

# Inbox first so a thread's folder is where the user normally sees it.
BOX_ORDER = ("inbox", "message_requests", "archived_threads", "filtered_threads", "e2ee_cutover")
MEDIA_KEYS = (("photos", "photo"), ("videos", "video"), ("gifs", "gif"),
              ("audio_files", "audio"), ("files", "file"), ("sticker", "sticker"))
MEDIA_KEYSET = frozenset(key for key, _ in MEDIA_KEYS)
SPECIAL_KEYS = frozenset(("is_unsent", "type", "call_duration"))

# Messenger and Instagram write calls and housekeeping as if someone had typed them, in the
# current and the legacy layouts alike, with or without a `type`. The phrasings below are the
# ones public parsers of these exports filter. They run on the raw (still mojibake) strings:
# their fixed parts are ASCII, and an emoji's mojibake holds no ASCII letters, so "He
# reacted badly to your message" stays a message.
_KIND = r"(?:[Vv]ideo |[Aa]udio |[Vv]oice )?"
# Lines that name nobody.
ANONYMOUS = re.compile(
    rf"(?:[Tt]he )?{_KIND}(?:call|chat) ended\.?"
    rf"|[Mm]issed {_KIND}(?:call|chat)\.?"
    r"|This message was unsent\.?|[Uu]nsent a message\.?"
    r"|[Ll]iked a message\.?"
    r"|[Rr]eacted [^\sA-Za-z]{1,64} to (?:your|a|their|his|her) message\.?"
    r"|You(?: are|'re| and .{1,80} are) now connected on (?:Messenger|Facebook|Instagram)\.?"
    r"|You can now (?:message and )?call each other\b.*"
    r"|Say hi to your new Facebook friend\b.*"
    r"|Messages and calls are secured with end-to-end encryption\b.*"
    r"|You (?:accepted|approved) .{1,80}message request\.?",
    re.S)
# "<who> <event>": who must be the sender, "You", or someone in the thread.
ACTOR_EVENT = re.compile(
    r"(?P<who>.{1,80}?) (?:"
    r"called (?:you|[^.!?\n]{1,80}\.)|"
    rf"missed (?:your|a|the) {_KIND}(?:call|chat)(?: (?:from|with) .{{1,80}})?"
    rf"|started (?:a|an) {_KIND}(?:call|chat)|joined the {_KIND}(?:call|chat)"
    r"|(?:left|ended) the (?:video |audio |voice )?(?:call|chat)"
    r"|unsent a message|liked a message"
    r"|reacted (?:[^\sA-Za-z]{1,64} )?to (?:your|a|their|his|her) message"
    r"|added .+ to the group|removed .+ from the group|left the group|created the group"
    r"|named the group .+|changed the group (?:photo|name|image)\b.*|joined the group\b.*"
    r"|set the nickname for .+|set (?:his|her|their|your) own nickname to .+"
    r"|changed the (?:chat )?theme\b.*|set the (?:quick reaction|emoji) to .+"
    r"|changed the (?:chat )?emoji\b.*"
    r"|(?:pinned|unpinned) a message|created a poll\b.*|voted for .+ in the poll"
    r"|changed (?:his|her|their|your) vote\b.*|removed (?:his|her|their|your) vote\b.*"
    r"|waved at .{1,80}|made .+ an admin|(?:is|are) no longer an admin\b.*"
    r"|started sharing video|turned on disappearing messages\b.*"
    r")[.!]?\s*", re.S)
# A cheap first test: every notice begins with one of these words or with someone's name.
NOTICE_STARTS = ("You", "The ", "the ", "Video", "Audio", "Voice", "Call", "Missed", "missed",
                 "This message", "Unsent", "unsent", "Liked", "liked", "Reacted", "reacted",
                 "Say hi", "Messages and calls")
ATTACHMENT = re.compile(r".{1,80} sent an attachment\.\s*")
# Legacy `type` values that are never something someone wrote.
DROPPED_TYPES = ("Subscribe", "Unsubscribe", "Call")


# The longest notice: a name, an action and a group's name. Longer text is someone's words.
NOTICE_MAX_CHARS = 400


def may_be_pseudo(content: str, sender: str, starts: tuple = NOTICE_STARTS) -> bool:
    """A cheap first test before meta_pseudo: short, and beginning with a notice's first
    word, the sender's name or (in `starts`) a participant's."""
    return len(content) <= NOTICE_MAX_CHARS and (
        content.startswith(starts)
        or (bool(sender) and content.startswith(sender.split(" ", 1)[0])))


def notice_starts(names) -> tuple:
    """NOTICE_STARTS and the first names of a thread's participants."""
    return NOTICE_STARTS + tuple({n.split(" ", 1)[0] for n in names if n})


def meta_pseudo(content: str, sender: str, names=()) -> bool:
    """True for call, reaction, unsent, connection and group-event lines: not things
    someone wrote. names: the thread's participants, as the file writes them."""
    text = content.strip()
    if ANONYMOUS.fullmatch(text):
        return True
    event = ACTOR_EVENT.fullmatch(text)
    return event is not None and _is_actor(event.group("who"), sender, names)


def _is_actor(who: str, sender: str, names) -> bool:
    return (who == "You" or who == sender or who in names
            or (bool(sender) and sender.split()[0] == who))


class ThreadRef:
    """Where a thread's files are, plus what its first file said about it."""

    __slots__ = ("copies", "title", "participants", "group_hint")

    def __init__(self, copies):
        self.copies = copies          # [(box, [message_N.json paths, highest N first])]
        self.title = None
        self.participants: dict[str, Participant] = {}
        self.group_hint = False


class MetaSource(ExportSource):
    """Instagram / Facebook JSON; the two differ only in platform name and folder prefix."""

    def __init__(self, root, *, platform: str, layout: str, files: list[Path],
                 where: tuple[str, str] | None = None, **kw):
        super().__init__(root, **kw)
        self.platform = platform
        self.layout = layout
        self._files = files
        self._where = where           # (box, folder) for a lone file, from its thread_path

    def _scan(self) -> None:
        by_key: dict[str, dict[str, list[Path]]] = {}
        for path in self._files:
            box, key = self._where or (path.parent.parent.name, path.parent.name)
            by_key.setdefault(key or path.stem, {}).setdefault(box, []).append(path)
        jobs = []
        for key, boxes in by_key.items():
            ordered = sorted(boxes, key=lambda b: (BOX_ORDER.index(b) if b in BOX_ORDER
                                                   else len(BOX_ORDER), b))
            copies = [(box, sorted(boxes[box], key=_part_number, reverse=True))
                      for box in ordered]
            ref = ThreadRef(copies)
            jobs.append((ref, {"key": key, "describe": lambda r=ref, k=key: {
                "title": r.title or k, "declared": r.participants.values(),
                "is_group": True if r.group_hint else None,
                "folder": r.copies[0][0] or None}}))
        size = sum(file_size(p) for p in self._files) if self.scan_workers else 0
        self._add_threads(jobs, size)

    def _may_repeat(self, ref: ThreadRef) -> bool:
        return len(ref.copies) > 1

    def _records(self, ref: ThreadRef, day_first):
        people: dict[str, Participant] = {}
        for group, (_box, files) in enumerate(ref.copies):
            # Files are oldest first here, and each file is newest first: a message's place
            # (file, -index) keeps the platform's order for ties on the same millisecond.
            for rank, path in enumerate(files):
                rel = self._relname(path)
                base = (group << 56) + (rank << 40)
                names = ref.participants
                messages = self._file_messages(ref, path, rel, people)
                starts = notice_starts(names)
                for index, m in enumerate(messages):
                    rec = _record(m, people, rel, index, base - index, group, names, starts)
                    if rec is not None:
                        yield rec

    def _file_messages(self, ref: ThreadRef, path: Path, rel: str, people: dict):
        """The file's messages: parsed whole when small, else as a stream (ijson)."""
        if file_size(path) <= STREAM_BYTES:
            data = load_json(path, rel)
            messages = _thread_messages(data, rel)
            self._note_thread(ref, data, people)
            return messages
        outline, has_list = json_outline(path, rel)
        if not has_list:
            raise ExportError(rel, "not a message file: no 'messages' list")
        self._note_thread(ref, outline, people)
        return json_items(path, rel, "messages.item")

    def _note_thread(self, ref: ThreadRef, data: dict, people: dict) -> None:
        if ref.title is None and isinstance(data.get("title"), str):
            ref.title = fix_mojibake(data["title"])
        for entry in list(data.get("participants") or []) + list(data.get("users") or []):
            raw = entry.get("name") if isinstance(entry, dict) else entry
            if isinstance(raw, str) and raw not in ref.participants:
                ref.participants[raw] = _person(raw, people)
        if "joinable_mode" in data or str(data.get("thread_type", "")).endswith("Group"):
            ref.group_hint = True



def _record(m, people, rel: str, index: int, seq: int, group: int,
            names=(), starts: tuple = NOTICE_STARTS) -> Record | None:
    """One message dict to a Record, or None when it is not something a person wrote.

    Written for speed (it runs once per message): class checks instead of isinstance,
    set tests on the keys before looking anything up.
    """
    if m.__class__ is not dict:
        raise ExportError(rel, f"messages[{index}] is not an object")
    if not SPECIAL_KEYS.isdisjoint(m) and (m.get("is_unsent") or m.get("type") in DROPPED_TYPES
                                          or "call_duration" in m):
        return None   # unsent, a call (answered or missed), people joining or leaving
    ms = m.get("timestamp_ms")
    if ms.__class__ is not int:
        raise ExportError(rel, f"messages[{index}] has no valid timestamp_ms")
    sender_raw = m.get("sender_name")
    if sender_raw.__class__ is not str:
        sender_raw = ""
    content = m.get("content")
    if content.__class__ is not str:
        content = ""
    elif may_be_pseudo(content, sender_raw, starts) and meta_pseudo(content, sender_raw, names):
        return None
    media = None
    if not MEDIA_KEYSET.isdisjoint(m):
        media = next((kind for key, kind in MEDIA_KEYS if m.get(key)), None)
    body = content if content.isascii() else fix_mojibake(content)
    if media or "share" in m or body.endswith(" sent an attachment."):
        body, media = _attachment_body(body, media, m.get("share"))
    if not body and not media:
        return None
    sender = people.get(sender_raw) or _person(sender_raw, people)
    return Record((ms, seq), ms, sender, body, media, None, None, group)


def _attachment_body(body: str, media: str | None, share) -> tuple[str, str | None]:
    """A share or an attachment is one message: what the sender wrote, or the link when they
    wrote nothing ("<Name> sent an attachment." is the app's line, not theirs)."""
    boilerplate = bool(body) and ATTACHMENT.fullmatch(body) is not None
    if boilerplate:
        body = ""
    if isinstance(share, dict) and (share.get("link") or share.get("share_text")):
        media = media or "share"
        if not body:
            link = share.get("link")
            text = share.get("share_text")
            body = fix_mojibake(link if isinstance(link, str) and link else
                                text if isinstance(text, str) else "")
    elif boilerplate:
        media = media or "media"
    return body, media


def _person(raw: str, people: dict[str, Participant]) -> Participant:
    person = people.get(raw)
    if person is None:
        person = people[raw] = Participant(fix_mojibake(raw) or "Unknown")
    return person


def _thread_messages(data, rel: str) -> list:
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        raise ExportError(rel, "not a message file: no 'messages' list")
    return data["messages"]


def _part_number(path: Path) -> int:
    digits = re.search(r"(\d+)", path.stem)
    return int(digits.group(1)) if digits else 0
