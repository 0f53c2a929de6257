"""Reading export files whole (JSON, small text) with errors that name the file."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from .base import ExportError


def load_json(path: Path, relname: str):
    """Parse one JSON file, naming it and the position in any error."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise ExportError(relname, f"cannot read file ({exc.strerror or exc})") from None
    return parse_json(raw, relname)


def parse_json(raw: bytes | str, relname: str):
    """json.loads with an ExportError that says where the file is broken."""
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        raise ExportError(relname, "not UTF-8 text") from None
    except ValueError as exc:
        where = f"line {exc.lineno} column {exc.colno}: " if hasattr(exc, "lineno") else ""
        raise ExportError(relname, f"malformed JSON ({where}{getattr(exc, 'msg', exc)})") from None


def read_text(path: Path, relname: str) -> str:
    """A whole small file as UTF-8 text (BOM dropped), or ExportError."""
    try:
        with open(path, "rb") as fh:
            return fh.read().decode("utf-8-sig")
    except OSError as exc:
        raise ExportError(relname, f"cannot read file ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise ExportError(relname, f"not UTF-8 text (byte {exc.start})") from None


# Files up to this size are parsed whole (json is fastest); bigger ones are streamed.
STREAM_BYTES = 8 * 1024 * 1024


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _stream_errors(relname: str, exc: Exception) -> ExportError:
    if isinstance(exc, UnicodeDecodeError):
        return ExportError(relname, "not UTF-8 text")
    return ExportError(relname, f"malformed JSON ({exc})")


# The top-level keys of a thread file worth keeping when a big one is outlined.
THREAD_KEYS = frozenset(("participants", "users", "title", "thread_type", "thread_path",
                         "joinable_mode", "threadName", "is_still_participant", "image",
                         "magic_words"))


def json_outline(path: Path, relname: str, list_key: str = "messages",
                 keep=THREAD_KEYS) -> tuple[dict, bool]:
    """A big JSON object's top-level keys without the (huge) list under list_key, read as a
    stream, and whether that list is there. Only the keys in `keep` are built; any other
    is there with the value None. ExportError when it is not an object."""
    import ijson

    outline: dict = {}
    has_list = False
    current = builder = None
    try:
        with open(path, "rb") as fh:
            for prefix, event, value in ijson.parse(fh, use_float=True):
                if prefix:
                    if builder is not None:
                        builder.event(event, value)
                    elif prefix == list_key and event == "start_array":
                        has_list = True
                    continue
                if event == "map_key":
                    if builder is not None:
                        outline[current] = builder.value
                    current = value
                    if value in keep:
                        builder = ijson.ObjectBuilder()
                    else:
                        builder = None
                        outline[value] = None
                elif event == "end_map":
                    if builder is not None:
                        outline[current] = builder.value
                    builder = None
                elif event != "start_map":
                    raise ExportError(relname, f"not a message file: no '{list_key}' list")
    except OSError as exc:
        raise ExportError(relname, f"cannot read file ({exc.strerror or exc})") from None
    except ExportError:
        raise
    except Exception as exc:  # ijson.JSONError and friends
        raise _stream_errors(relname, exc) from None
    return outline, has_list


def json_items(path: Path, relname: str, prefix: str) -> Iterator:
    """The items of the list at prefix ("messages.item"), one at a time."""
    import ijson

    try:
        with open(path, "rb") as fh:
            yield from ijson.items(fh, prefix, use_float=True)
    except OSError as exc:
        raise ExportError(relname, f"cannot read file ({exc.strerror or exc})") from None
    except Exception as exc:
        if isinstance(exc, (ExportError, GeneratorExit)):
            raise
        raise _stream_errors(relname, exc) from None


def json_sample(path: Path, relname: str, list_key: str = "messages", sample: int = 500):
    """For sniffing: the whole JSON of a small file; of a big object, its outline with the
    first `sample` items of list_key (when it is a list)."""
    if file_size(path) <= STREAM_BYTES:
        return load_json(path, relname)
    from itertools import islice

    outline, has_list = json_outline(path, relname, list_key)
    if has_list:
        outline[list_key] = list(islice(json_items(path, relname, f"{list_key}.item"),
                                        sample))
    return outline
