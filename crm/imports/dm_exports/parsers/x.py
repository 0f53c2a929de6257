"""X / Twitter archive: data/direct-messages*.js (window.YTD… = JSON), owner in account.js."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from .base import ExportError, ExportSource, Participant, Record
from .files import parse_json, read_text

DM_FILE = re.compile(r"direct[-_]messages?(?P<group>[-_]group)?(?:[-_]part\d+)?\.js", re.I)
ONE_TO_ONE = re.compile(r"(\d+)-(\d+)")


def is_dm_file(name: str) -> bool:
    """direct-messages.js, -part1.js, -group.js …; the -headers files hold no text."""
    return DM_FILE.fullmatch(name) is not None


def load_ytd(path: Path, rel: str):
    """The JSON after 'window.YTD.<name>.partN =' as a list (small files: account.js)."""
    text = read_text(path, rel)
    head = text.lstrip()
    eq = head.find("=")
    if not head.startswith("window.YTD.") or eq < 0:
        raise ExportError(rel, NOT_YTD)
    data = parse_json(head[eq + 1:], rel)
    if not isinstance(data, list):
        raise ExportError(rel, "expected a list after '='")
    return data


NOT_YTD = "not an X archive data file (expected 'window.YTD.… = [')"


def ytd_entries(path: Path, rel: str, prefix: str = "item"):
    """The entries of the list after 'window.YTD.<name>.partN =', one at a time (ijson):
    a file of any size holds one conversation in memory at a time. prefix: what to take
    from each entry ("item.dmConversation.conversationId": only the ids)."""
    import ijson

    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
            start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
            eq = head.find(b"=")
            if not start.startswith(b"window.YTD.") or eq < 0:
                raise ExportError(rel, NOT_YTD)
            after = head[eq + 1:].lstrip()
            if after and not after.startswith(b"["):
                raise ExportError(rel, "expected a list after '='")
            fh.seek(eq + 1)
            yield from ijson.items(fh, prefix, use_float=True)
    except OSError as exc:
        raise ExportError(rel, f"cannot read file ({exc.strerror or exc})") from None
    except (ExportError, GeneratorExit):
        raise
    except UnicodeDecodeError:
        raise ExportError(rel, "not UTF-8 text") from None
    except Exception as exc:  # ijson.JSONError and friends
        raise ExportError(rel, f"malformed JSON ({exc})") from None


class XRef:
    """One conversation: its entries while it is read, and the people seen in it."""

    __slots__ = ("cid", "entries", "is_group", "ids", "name", "name_at", "first", "left")

    def __init__(self, cid: str, is_group: bool):
        self.cid = cid
        self.entries: list[tuple[str, dict]] = []   # (file as the user knows it, entry)
        self.is_group = is_group
        self.ids: dict[str, None] = {}    # ordered set of user ids
        self.name: str | None = None
        self.name_at = ""
        self.first = 0                    # where it first appears, for the thread order
        self.left = 0                     # entries still to come in the files


class XSource(ExportSource):
    """X archive; users are ids, the owner's id (and names) come from account.js."""

    platform = "x"
    layout = "x-archive"

    def __init__(self, root, *, files: list[Path], account: Path | None, **kw):
        super().__init__(root, **kw)
        self._files = files
        self._account = account
        self._me: Participant | None = None
        self._people: dict[str, Participant] = {}

    def _scan(self) -> None:
        # Two passes over the files, as streams: the first counts each conversation's
        # entries (a big archive may split one over -part files), the second reads each
        # conversation and spools it as soon as its last entry has been read.
        if self._account is not None:
            self._read_account(self._account)
        refs: dict[str, XRef] = {}
        for path in self._files:
            rel = self._relname(path)
            group_file = bool(DM_FILE.fullmatch(path.name).group("group"))
            for cid in ytd_entries(path, rel, "item.dmConversation.conversationId"):
                cid = str(cid)
                ref = refs.get(cid)
                if ref is None:
                    ref = refs[cid] = XRef(cid, group_file or not ONE_TO_ONE.fullmatch(cid))
                    ref.first = len(refs)
                ref.left += 1
        for ref in refs.values():
            pair = ONE_TO_ONE.fullmatch(ref.cid)
            if pair and not ref.is_group:
                for uid in pair.groups():
                    ref.ids.setdefault(uid)
        for path in self._files:
            rel = self._relname(path)
            for n, entry in enumerate(ytd_entries(path, rel)):
                ref = refs.get(_conversation_id(entry, rel, n))
                if ref is None:   # changed since the first pass
                    raise ExportError(rel, "the file changed while it was read")
                ref.entries.append((rel, entry["dmConversation"]))
                ref.left -= 1
                if ref.left == 0:
                    self._add_thread(ref, key=ref.cid, describe=lambda r=ref: self._describe(r))
                    ref.entries = []      # spooled: let the messages go
        self._threads.sort(key=lambda t: refs[t.key].first)

    def _describe(self, ref: XRef) -> dict:
        people = [self._person(uid) for uid in ref.ids]
        others = [p.name for p in people if p is not self._me]
        title = ref.name or ", ".join(others) or ref.cid
        return {"title": title, "declared": people, "is_group": ref.is_group}

    def _read_account(self, path: Path) -> None:
        rel = self._relname(path)
        for entry in load_ytd(path, rel):
            account = entry.get("account") if isinstance(entry, dict) else None
            if isinstance(account, dict) and account.get("accountId"):
                uid = str(account["accountId"])
                username = account.get("username") or None
                display = account.get("accountDisplayName") or None
                self._me = Participant(display or username or uid, handle=username,
                                       account_id=uid)
                self._people[uid] = self._me
                self.detected_me = uid
                self.me_aliases = [a for a in (uid, username, display) if a]
                return

    def _person(self, uid: str) -> Participant:
        person = self._people.get(uid)
        if person is None:
            person = self._people[uid] = Participant(uid, account_id=uid)
        return person

    def _records(self, ref: XRef, day_first):
        for rel, conv in ref.entries:
            for n, item in enumerate(conv.get("messages") or []):
                rec = self._item(ref, item, rel, n)
                if rec is not None:
                    yield rec

    def _item(self, ref: XRef, item, rel: str, n: int) -> Record | None:
        if not isinstance(item, dict):
            raise ExportError(rel, f"{ref.cid}: message {n} is not an object")
        m = item.get("messageCreate")
        if m is None:
            self._note_event(ref, item)
            return None
        when = _parse_time(m.get("createdAt"), rel, ref.cid, n)
        sender_id = str(m.get("senderId") or "")
        if not sender_id:
            raise ExportError(rel, f"{ref.cid}: message {n} has no senderId")
        ref.ids.setdefault(sender_id)
        if m.get("recipientId"):
            ref.ids.setdefault(str(m["recipientId"]))
        media = _media_kind(m.get("mediaUrls") or [])
        body = _expand_urls(m.get("text") or "", m.get("urls") or [], bool(media))
        if not body and not media:
            return None
        mid = str(m["id"]) if m.get("id") is not None else None
        # Snowflake ids grow with time, so they break ties within one millisecond.
        order = (when, int(mid) if mid and mid.isdigit() else 0, n)
        return Record(order, when, self._person(sender_id), body, media, external_id=mid)

    def _note_event(self, ref: XRef, item: dict) -> None:
        """Join/leave/rename events are not messages, but they tell who was in the group."""
        for event in item.values():
            if not isinstance(event, dict):
                continue
            for key in ("initiatingUserId", "senderId"):
                if event.get(key):
                    ref.ids.setdefault(str(event[key]))
            for key in ("userIds", "participantsSnapshot"):
                for uid in event.get(key) or []:
                    ref.ids.setdefault(str(uid))
            name = event.get("name")
            if isinstance(name, str) and name and str(event.get("createdAt", "")) >= ref.name_at:
                ref.name, ref.name_at = name, str(event.get("createdAt", ""))


def _conversation_id(entry, rel: str, n: int) -> str:
    conv = entry.get("dmConversation") if isinstance(entry, dict) else None
    if not isinstance(conv, dict) or not conv.get("conversationId"):
        raise ExportError(rel, f"not a direct-messages file: entry {n} has no "
                               "dmConversation.conversationId")
    return str(conv["conversationId"])


def _parse_time(value, rel: str, cid: str, n: int) -> datetime:
    try:
        when = datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        raise ExportError(rel, f"{cid}: message {n} has an invalid createdAt {value!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


def _media_kind(urls: list) -> str | None:
    for url in urls:
        if not isinstance(url, str):
            continue
        lowered = url.lower()
        if "dm_gif" in lowered:
            return "gif"
        if "dm_video" in lowered or lowered.split("?")[0].endswith((".mp4", ".mov")):
            return "video"
        if "dm_audio" in lowered:
            return "audio"
        return "photo"
    return None


def _expand_urls(text: str, urls: list, has_media: bool) -> str:
    """Swap t.co links for where they go; drop the one that only points at attached media."""
    for url in urls:
        if not isinstance(url, dict) or not url.get("url"):
            continue
        expanded = url.get("expanded") or url["url"]
        if has_media and "/messages/media/" in expanded:
            text = text.replace(url["url"], "")
        else:
            text = text.replace(url["url"], expanded)
    return text.strip()
