"""Reading export files whole (JSON, small text) with errors that name the file."""
from __future__ import annotations

import json
from pathlib import Path

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
