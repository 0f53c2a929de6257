"""TikTok user_data_tiktok.json (current) and user_data.json (older): Direct Messages."""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from .base import ExportError, ExportSource, Participant, Record
from .files import STREAM_BYTES, file_size, load_json
from .text import local_to_utc

CHAT_PREFIXES = ("Direct Message.Direct Messages.ChatHistory",
                 "Direct Messages.Chat History.ChatHistory")
PROFILE_PREFIXES = ("Profile.Profile Info.ProfileMap", "Profile.Profile Information.ProfileMap")
CHAT_KEY = re.compile(r"Chat History with (?P<user>.+?):?\s*")
SHARE_URL = re.compile(r"https?://(?:www\.|vm\.|m\.)?tiktokv?\.com/\S+")


def chat_history(data) -> tuple[dict, str] | None:
    """({"Chat History with x:": [...]}, layout) from either generation, else None."""
    if not isinstance(data, dict):
        return None
    current = _dig(data, "Direct Message", "Direct Messages", "ChatHistory")
    if isinstance(current, dict):
        return current, "tiktok-json"
    legacy = _dig(data, "Direct Messages", "Chat History", "ChatHistory")
    if isinstance(legacy, dict):
        return legacy, "tiktok-json-legacy"
    return None


def _dig(data, *keys):
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


class TikTokSource(ExportSource):
    """One JSON file; the chat's key is the other user's username."""

    platform = "tiktok"

    def __init__(self, root, *, path: Path, **kw):
        super().__init__(root, **kw)
        self._path = path
        self._rel = self._relname(path)
        self._people: dict[str, Participant] = {}

    def _scan(self) -> None:
        if file_size(self._path) > STREAM_BYTES:
            self._scan_stream()
            return
        data = load_json(self._path, self._rel)
        found = chat_history(data)
        if found is None:
            raise ExportError(self._rel, "no Direct Messages chat history in this file")
        chats, self.layout = found
        self._owner(_dig(data, "Profile", "Profile Info", "ProfileMap") or
                    _dig(data, "Profile", "Profile Information", "ProfileMap"))
        del data
        for label, items in chats.items():
            self._add_chat(label, items)

    def _scan_stream(self) -> None:
        """A big user_data file (it holds all of the account's activity) read as a stream:
        the owner's profile, then one chat at a time."""
        import ijson

        found = {}
        wanted = {PROFILE_PREFIXES[0]: "profile", PROFILE_PREFIXES[1]: "profile",
                  CHAT_PREFIXES[0]: "tiktok-json", CHAT_PREFIXES[1]: "tiktok-json-legacy"}
        try:
            with open(self._path, "rb") as fh:
                builder = None
                for prefix, event, value in ijson.parse(fh, use_float=True):
                    if builder is not None:
                        if prefix == builder[0] and event == "end_map":
                            found["profile"] = builder[1].value
                            builder = None
                        else:
                            builder[1].event(event, value)
                        continue
                    kind = wanted.get(prefix)
                    if kind and event == "start_map":
                        if kind == "profile":
                            builder = (prefix, ijson.ObjectBuilder())
                            builder[1].event(event, value)
                        else:
                            found.setdefault("chats", (prefix, kind))
            if "chats" not in found:
                raise ExportError(self._rel, "no Direct Messages chat history in this file")
            prefix, self.layout = found["chats"]
            self._owner(found.get("profile"))
            with open(self._path, "rb") as fh:
                for label, items in ijson.kvitems(fh, prefix, use_float=True):
                    self._add_chat(label, items)
        except OSError as exc:
            raise ExportError(self._rel, f"cannot read file ({exc.strerror or exc})") from None
        except ExportError:
            raise
        except Exception as exc:  # ijson.JSONError and friends
            raise ExportError(self._rel, f"malformed JSON ({exc})") from None

    def _owner(self, profile) -> None:
        if isinstance(profile, dict) and profile.get("userName"):
            self.detected_me = str(profile["userName"])
            self.me_aliases = [self.detected_me]

    def _add_chat(self, label: str, items) -> None:
        named = CHAT_KEY.fullmatch(label)
        user = named["user"].strip() if named else label
        if items is None:
            return
        if not isinstance(items, list):
            raise ExportError(self._rel, f"{label!r} is not a list of messages")
        declared = [self._person(user)]
        if self.detected_me:
            declared.append(self._person(self.detected_me))
        ref = [label, items]
        self._add_thread(ref, key=user, title=user, declared=declared)
        ref[1] = []    # spooled: messages() reads the spool, so the chat can go

    def _person(self, username: str) -> Participant:
        person = self._people.get(username)
        if person is None:
            person = self._people[username] = Participant(username, handle=username)
        return person

    def _records(self, ref, day_first):
        label, items = ref
        for n, item in enumerate(items):
            if not isinstance(item, dict):
                raise ExportError(self._rel, f"{label} message {n} is not an object")
            naive = _parse_date(item.get("Date"), self._rel, label, n)
            sender = str(item.get("From") or item.get("Sender") or "")
            body = item.get("Content") if isinstance(item.get("Content"), str) else ""
            body = body.strip()
            if not body:
                continue
            media = "share" if SHARE_URL.fullmatch(body) else None
            yield Record((naive, n), local_to_utc(naive, self.tz),
                         self._person(sender or "Unknown"), body, media, clock=naive.isoformat())


def _parse_date(value, rel: str, label: str, n: int) -> datetime:
    try:
        return datetime.strptime(str(value).strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise ExportError(rel, f"{label} message {n}: invalid Date {value!r}") from None
