"""Extract an uploaded zip without trusting it: size, ratio, member count, paths, links."""
from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path, PurePosixPath

from .base import ExportError

# Only these are read by the parsers; photos and videos can be gigabytes and are skipped.
DATA_SUFFIXES = (".json", ".js", ".csv", ".txt")
# Small members cannot be bombs however well they compress (a run of JSON spaces can).
RATIO_FLOOR_BYTES = 64 * 1024
CHUNK = 1024 * 1024


def is_zip(path: Path) -> bool:
    """True for a .zip name or zip magic bytes."""
    if path.suffix.lower() == ".zip":
        return True
    try:
        with open(path, "rb") as fh:
            return fh.read(4) in (b"PK\x03\x04", b"PK\x05\x06")
    except OSError:
        return False


def member_parts(name: str) -> list[str]:
    """A member name split into safe parts, or ExportError for absolute or '..' paths."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        raise ExportError(name, "absolute path in zip archive refused")
    parts = [p for p in PurePosixPath(norm).parts if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise ExportError(name, "path traversal ('..') in zip archive refused")
    if any(":" in p or "\x00" in p for p in parts):
        raise ExportError(name, "unsafe characters in zip member name refused")
    return parts


def extract_zip(zip_path: Path, dest: str, *, max_total_bytes: int, max_ratio: float,
                max_members: int, label: str) -> list[str]:
    """Check every member, copy the data files into dest (counting real bytes).

    Returns every member name, so the caller can explain what it did not extract.
    """
    try:
        zf = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile as exc:
        raise ExportError(label, f"not a valid zip archive ({exc})") from None
    except OSError as exc:
        raise ExportError(label, f"cannot read zip archive ({exc.strerror or exc})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > max_members:
            raise ExportError(label, f"zip archive has {len(infos)} members, more than the "
                                     f"{max_members} allowed")
        wanted: list[tuple[zipfile.ZipInfo, list[str]]] = []
        total = 0
        for info in infos:
            where = f"{label}/{info.filename}"
            try:
                parts = member_parts(info.filename)
            except ExportError as exc:
                raise ExportError(where, exc.reason) from None
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise ExportError(where, "symbolic link in zip archive refused")
            if info.is_dir() or not parts:
                continue
            if not parts[-1].lower().endswith(DATA_SUFFIXES):
                continue
            if info.flag_bits & 0x1:
                raise ExportError(where, "encrypted zip member; export it again without a password")
            if info.file_size > RATIO_FLOOR_BYTES:
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > max_ratio:
                    raise ExportError(where, f"compression ratio {ratio:.0f}:1 exceeds "
                                             f"{max_ratio:g}:1 (possible zip bomb)")
            total += info.file_size
            if total > max_total_bytes:
                raise ExportError(label, _too_big(max_total_bytes))
            wanted.append((info, parts))

        written = 0
        for info, parts in wanted:
            where = f"{label}/{info.filename}"
            target = os.path.join(dest, *parts)
            # Headers can lie about sizes, so count what actually comes out.
            limit = info.file_size
            got = 0
            try:
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as out:
                    while True:
                        chunk = src.read(CHUNK)
                        if not chunk:
                            break
                        got += len(chunk)
                        written += len(chunk)
                        if got > limit or written > max_total_bytes:
                            raise ExportError(where, "member is larger than its header says")
                        out.write(chunk)
            except ExportError:
                raise
            except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError,
                    NotImplementedError, RuntimeError, ValueError) as exc:
                raise ExportError(where, f"cannot extract ({exc})") from None
        return [info.filename for info in infos]


def _too_big(limit: int) -> str:
    size = f"{limit // (1024 * 1024):,} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
    return (f"uncompressed data exceeds {size}, this server's limit for one export "
            "(IMPORT_MAX_UNCOMPRESSED_MB; photos and videos do not count): nothing was read. "
            "Import the export in parts, or ask an administrator to raise the limit")
