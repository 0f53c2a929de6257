"""Facebook end-to-end encrypted chats: flat messages/<Name>_<N>.json in clean UTF-8."""
from __future__ import annotations

from pathlib import Path

from .base import ExportError, ExportSource, Participant, Record
from .files import STREAM_BYTES, file_size, json_items, json_outline, load_json
from .meta import may_be_pseudo, meta_pseudo
from .text import media_kind_from_name


def looks_like_e2ee(data) -> bool:
    """The E2EE download uses camelCase keys the regular export never has."""
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        return False
    if "threadName" in data:
        return True
    first = next((m for m in data["messages"] if isinstance(m, dict)), None)
    return first is not None and "senderName" in first


class FacebookE2EESource(ExportSource):
    """One thread per JSON file; the key is the file name without .json."""

    platform = "facebook"
    layout = "facebook-e2ee"

    def __init__(self, root, *, files: list[Path], **kw):
        super().__init__(root, **kw)
        self._files = files

    def _scan(self) -> None:
        for path in self._files:
            ref = {"path": path, "title": None, "people": {}}
            self._add_thread(ref, key=path.stem, describe=lambda r=ref, k=path.stem: {
                "title": r["title"] or k, "declared": r["people"].values()})

    def _records(self, ref, day_first):
        path: Path = ref["path"]
        rel = self._relname(path)
        if file_size(path) <= STREAM_BYTES:
            data = load_json(path, rel)
            if not looks_like_e2ee(data):
                raise ExportError(rel, "not an end-to-end encrypted chat file")
            messages = data["messages"]
        else:   # a big chat is read as a stream
            data, has_list = json_outline(path, rel)
            if not has_list:
                raise ExportError(rel, "not an end-to-end encrypted chat file")
            messages = json_items(path, rel, "messages.item")
        people: dict[str, Participant] = ref["people"]
        if isinstance(data.get("threadName"), str):
            ref["title"] = data["threadName"]
        for entry in data.get("participants") or []:
            name = entry.get("name") if isinstance(entry, dict) else entry
            if isinstance(name, str) and name not in people:
                people[name] = Participant(name)
        for index, m in enumerate(messages):
            if not isinstance(m, dict):
                raise ExportError(rel, f"messages[{index}] is not an object")
            if m.get("isUnsent") or m.get("type") == "placeholder":
                continue
            ms = m.get("timestamp")
            if not isinstance(ms, int) or isinstance(ms, bool):
                raise ExportError(rel, f"messages[{index}] has no valid timestamp")
            name = m.get("senderName") if isinstance(m.get("senderName"), str) else ""
            text = m.get("text") if isinstance(m.get("text"), str) else ""
            if text and may_be_pseudo(text, name) and meta_pseudo(text, name):
                continue
            media = None
            if m.get("media") or m.get("type") == "media":
                media = _media_kind(m.get("media"))
            elif m.get("type") == "link":
                media = "share"
            if not text and not media:
                continue
            sender = people.get(name) or people.setdefault(name, Participant(name or "Unknown"))
            # Order is not documented for this download, so sort on time and keep file order
            # for ties.
            yield Record((ms, index), ms, sender, text, media)


def _media_kind(media) -> str:
    items = media if isinstance(media, list) else [media]
    for item in items:
        uri = item.get("uri") if isinstance(item, dict) else item
        if isinstance(uri, str) and uri:
            return media_kind_from_name(uri)
    return "media"
