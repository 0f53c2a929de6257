"""Instagram and Facebook Messenger JSON exports: inbox/<folder>/message_N.json."""
from __future__ import annotations

import re
from pathlib import Path

from .base import ExportError, ExportSource, Participant, Record
from .files import load_json
from .text import fix_mojibake

# Inbox first so a thread's folder is where the user normally sees it.
BOX_ORDER = ("inbox", "message_requests", "archived_threads", "filtered_threads", "e2ee_cutover")
MEDIA_KEYS = (("photos", "photo"), ("videos", "video"), ("gifs", "gif"),
              ("audio_files", "audio"), ("files", "file"), ("sticker", "sticker"))
MEDIA_KEYSET = frozenset(key for key, _ in MEDIA_KEYS)
SPECIAL_KEYS = frozenset(("is_unsent", "type"))
DROPPED_TYPES = ("Subscribe", "Unsubscribe")
ATTACHMENT_KEYS = frozenset(("share", "call_duration", "type"))

# These patterns run on the raw (still mojibake) strings: their fixed parts are ASCII, and an
# emoji's mojibake holds no ASCII letters, so "He reacted badly to your message" stays a message.
REACTION = re.compile(r"(?:.{1,80} )?[Rr]eacted [^\sA-Za-z]{1,64} to (?:your|a|their|his|her) "
                      r"message\s*", re.S)
LIKED = re.compile(r"(?:.{1,80} )?[Ll]iked a message\.?\s*")
UNSENT = re.compile(r"(.{1,80}) unsent a message\.?\s*")
PSEUDO_HINT = re.compile(r"eacted |iked a message|unsent a message")
ATTACHMENT = re.compile(r".{1,80} sent an attachment\.\s*")
# Group housekeeping the app writes as if the sender had said it.
GROUP_EVENT = re.compile(
    r" (?:added .+ to the group|removed .+ from the group|left the group|created the group"
    r"|named the group .+|changed the group (?:photo|name)|joined the group"
    r"|set the nickname for .+|set (?:his|her|their|your) own nickname to .+"
    r"|changed the (?:chat )?theme.*|set the quick reaction to .+"
    r"|started sharing video|joined the video chat|joined the call)\.?\s*", re.S)


def may_be_pseudo(content: str, sender: str) -> bool:
    """A cheap first test (one regex search, one startswith) before meta_pseudo."""
    return bool(PSEUDO_HINT.search(content)) or content.startswith(("You ", sender or "\0"))


def meta_pseudo(content: str, sender: str) -> bool:
    """True for reaction, unsent and group-event lines that are not things someone wrote."""
    if REACTION.fullmatch(content) or LIKED.fullmatch(content):
        return True
    unsent = UNSENT.fullmatch(content)
    if unsent and _is_sender(unsent.group(1), sender):
        return True
    for who in (sender, "You"):
        if who and content.startswith(who) and GROUP_EVENT.fullmatch(content[len(who):]):
            return True
    return False


def _is_sender(who: str, sender: str) -> bool:
    return who == "You" or who == sender or (bool(sender) and sender.split()[0] == who)


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
        size = sum(_size(p) for p in self._files) if self.scan_workers else 0
        self._add_threads(jobs, size)

    def _may_repeat(self, ref: ThreadRef) -> bool:
        return len(ref.copies) > 1

    def _records(self, ref: ThreadRef, day_first):
        people: dict[str, Participant] = {}
        seq = 0
        for group, (_box, files) in enumerate(ref.copies):
            for path in files:
                rel = self._relname(path)
                data = load_json(path, rel)
                messages = _thread_messages(data, rel)
                self._note_thread(ref, data, people)
                # Files and their messages are newest first; walk them backwards so ties on
                # the same millisecond keep the order the platform wrote them in.
                for index in range(len(messages) - 1, -1, -1):
                    seq += 1
                    rec = _record(messages[index], people, rel, index, seq, group)
                    if rec is not None:
                        yield rec

    def _note_thread(self, ref: ThreadRef, data: dict, people: dict) -> None:
        if ref.title is None and isinstance(data.get("title"), str):
            ref.title = fix_mojibake(data["title"])
        for entry in list(data.get("participants") or []) + list(data.get("users") or []):
            raw = entry.get("name") if isinstance(entry, dict) else entry
            if isinstance(raw, str) and raw not in ref.participants:
                ref.participants[raw] = _person(raw, people)
        if "joinable_mode" in data or str(data.get("thread_type", "")).endswith("Group"):
            ref.group_hint = True



def _record(m, people, rel: str, index: int, seq: int, group: int) -> Record | None:
    """One message dict to a Record, or None when it is not something a person wrote.

    Written for speed (it runs once per message): class checks instead of isinstance,
    set tests on the keys before looking anything up.
    """
    if m.__class__ is not dict:
        raise ExportError(rel, f"messages[{index}] is not an object")
    if not SPECIAL_KEYS.isdisjoint(m) and (m.get("is_unsent") or m.get("type") in DROPPED_TYPES):
        return None
    ms = m.get("timestamp_ms")
    if ms.__class__ is not int:
        raise ExportError(rel, f"messages[{index}] has no valid timestamp_ms")
    sender_raw = m.get("sender_name")
    if sender_raw.__class__ is not str:
        sender_raw = ""
    content = m.get("content")
    if content.__class__ is not str:
        content = ""
    elif may_be_pseudo(content, sender_raw) and meta_pseudo(content, sender_raw):
        return None
    media = None
    if not MEDIA_KEYSET.isdisjoint(m):
        media = next((kind for key, kind in MEDIA_KEYS if m.get(key)), None)
    body = content if content.isascii() else fix_mojibake(content)
    if media or not ATTACHMENT_KEYS.isdisjoint(m):
        body, media = _attachment_body(m, body, media, m.get("share"))
    if not body and not media:
        return None
    sender = people.get(sender_raw) or _person(sender_raw, people)
    return Record((ms, seq), ms, sender, body, media, None, None, group)


def _attachment_body(m: dict, body: str, media: str | None, share) -> tuple[str, str | None]:
    """Shares, attachments and calls: what the message body should say."""
    boilerplate = bool(body) and ATTACHMENT.fullmatch(body) is not None
    if isinstance(share, dict) and (share.get("link") or share.get("share_text")):
        media = media or "share"
        if not body or boilerplate:
            # The "<Name> sent an attachment." line says nothing; the link does.
            body = "\n".join(fix_mojibake(share[k]) for k in ("link", "share_text")
                             if isinstance(share.get(k), str) and share[k])
    elif boilerplate:
        body, media = "", media or "media"
    if not body and ("call_duration" in m or m.get("type") == "Call"):
        body = "Call"
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


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _part_number(path: Path) -> int:
    digits = re.search(r"(\d+)", path.stem)
    return int(digits.group(1)) if digits else 0
