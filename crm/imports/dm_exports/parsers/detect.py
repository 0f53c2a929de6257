"""open_export: unpack safely, find what kind of export this is, and hand it to its parser."""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import linkedin, whatsapp, x
from .base import PLATFORMS, ExportError, ExportSource
from .files import json_sample
from .facebook_e2ee import FacebookE2EESource, looks_like_e2ee
from .linkedin import LinkedInSource
from .meta import MetaSource
from .text import fix_mojibake
from .tiktok import TikTokSource, chat_history
from .whatsapp import WhatsAppSource
from .x import XSource
from .zipsafe import extract_zip, is_zip

MESSAGE_FILE = re.compile(r"message_\d+\.json", re.I)
MESSAGE_HTML = re.compile(r"message_\d+\.html?", re.I)
TIKTOK_FILE = re.compile(r"user_data(?:_tiktok)?\.json", re.I)
IG_ROOTS = {"your_instagram_activity"}
FB_ROOTS = {"your_facebook_activity", "your_activity_across_facebook"}
FB_ONLY_BOXES = {"archived_threads", "filtered_threads", "e2ee_cutover"}
FRIENDLY = {"instagram": "Instagram", "facebook": "Facebook", "x": "X", "linkedin": "LinkedIn",
            "whatsapp": "WhatsApp", "tiktok": "TikTok"}


def open_export(path: str | os.PathLike, *, max_total_bytes: int = 2_000_000_000,
                max_ratio: float = 200, max_members: int = 200_000, tz: str = "UTC",
                platform: str | None = None, scan_workers: int = 0,
                look_beside: bool = False) -> ExportSource:
    """Open a platform's zip, a folder from it, or one file; detect platform and layout.

    scan_workers: processes that may read a big export's files in parallel (forked; only
    where the caller may fork, i.e. not in a threaded web server).
    look_beside: a file or folder out of an unpacked export (the command line): look in
    the folders around it for the file that names the owner."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {tz!r}") from None
    if platform is not None and platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}")
    p = Path(path)
    label = p.name or str(p)
    if not p.exists():
        raise ExportError(label, "no such file or folder")
    tmp: str | None = None
    source: ExportSource | None = None
    try:
        member_names: list[str] = []
        if p.is_dir():
            root, files, single = p, _walk(p), False
        elif is_zip(p):
            tmp = tempfile.mkdtemp(prefix="rapport-export-")
            member_names = extract_zip(p, tmp, max_total_bytes=max_total_bytes,
                                       max_ratio=max_ratio, max_members=max_members, label=label)
            root, files, single = Path(tmp), _walk(Path(tmp)), False
        else:
            root, files, single = p.parent, [p], True
        source = _choose(root, files, single=single, label=label, tz=zone, tmpdir=tmp,
                         platform=platform, member_names=member_names)
        unpacked = tmp is not None
        tmp = None  # the source owns the folder now and removes it on close()
        if platform is not None and source.platform != platform:
            raise ExportError(label, f"this is a {FRIENDLY[source.platform]} export, "
                                     f"not {FRIENDLY[platform]}")
        if look_beside and not unpacked:
            _owner_beside(source, p)
        source.scan_workers = scan_workers
        source._scan()
        return source
    except BaseException:
        if source is not None:
            source.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        raise


def _walk(root: Path) -> list[Path]:
    """Regular files under root in a stable order; symlinks are never followed."""
    found = []
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            full = Path(folder, name)
            if not full.is_symlink():
                found.append(full)
    return found


def _choose(root: Path, files: list[Path], *, single: bool, label: str, tz, tmpdir,
            platform: str | None, member_names: list[str]) -> ExportSource:
    common = {"tz": tz, "label": label, "tmpdir": tmpdir}
    if single:
        return _choose_single(root, files[0], platform, common)

    kinds: dict[str, callable] = {}
    meta = [f for f in files if MESSAGE_FILE.fullmatch(f.name)]
    if meta:
        kinds["Instagram/Facebook"] = lambda: _meta_source(root, meta, files, platform, common)
    e2ee = [f for f in files if f.suffix.lower() == ".json" and not MESSAGE_FILE.fullmatch(f.name)
            and (f.parent.name == "messages" or f.parent == root)
            and looks_like_e2ee(_quiet_json(f))]
    if e2ee:
        kinds["Facebook encrypted chats"] = lambda: FacebookE2EESource(root, files=e2ee, **common)
    dms = [f for f in files if x.is_dm_file(f.name)]
    if dms:
        account = next((f for f in files if f.name == "account.js" and f.parent == dms[0].parent),
                       next((f for f in files if f.name == "account.js"), None))
        kinds["X"] = lambda: XSource(root, files=dms, account=account, **common)
    csvs = [f for f in files if f.suffix.lower() == ".csv" and linkedin.is_messages_csv(f)]
    if csvs:
        kinds["LinkedIn"] = lambda: _linkedin_source(root, csvs, files, label, common)
    chats = [(f, kind) for f in files if f.suffix.lower() == ".txt"
             for kind in [whatsapp.sniff(f)] if kind]
    if chats:
        kinds["WhatsApp"] = lambda: WhatsAppSource(root, files=chats, **common)
    tiktok = [f for f in files if TIKTOK_FILE.fullmatch(f.name)]
    if tiktok:
        kinds["TikTok"] = lambda: TikTokSource(root, path=tiktok[0], **common)

    if len(kinds) > 1:
        raise ExportError(label, f"holds more than one kind of export ({', '.join(kinds)}); "
                                 "upload them one at a time")
    if not kinds:
        # Zips only unpack data files, so look at the member names too.
        names = [f.name for f in files] + [n.rsplit("/", 1)[-1] for n in member_names]
        if any(MESSAGE_HTML.fullmatch(name) for name in names):
            raise ExportError(label, "this export is in HTML format; download it again "
                                     "choosing JSON")
        raise ExportError(label, "not a DM export: no message files found")
    return next(iter(kinds.values()))()


def _choose_single(root: Path, path: Path, platform, common) -> ExportSource:
    """One file on its own: decide by content, not by name."""
    rel = path.name
    suffix = path.suffix.lower()
    if suffix == ".js":
        return XSource(root, files=[path], account=None, **common)
    if suffix == ".csv":
        if not linkedin.is_messages_csv(path):
            raise ExportError(rel, "not a LinkedIn messages.csv (missing CONVERSATION ID, "
                                   "FROM, DATE or CONTENT column)")
        return LinkedInSource(root, path=path, **common)
    if suffix == ".txt":
        kind = whatsapp.sniff(path)
        if kind is None:
            raise ExportError(rel, "not a WhatsApp chat export (no dated message lines)")
        return WhatsAppSource(root, files=[(path, kind)], **common)
    if suffix == ".json":
        data = json_sample(path, rel)
        if looks_like_e2ee(data):
            return FacebookE2EESource(root, files=[path], **common)
        if chat_history(data) is not None or (
                isinstance(data, dict) and {"Direct Message", "Direct Messages"} & set(data)):
            return TikTokSource(root, path=path, **common)
        if isinstance(data, dict) and isinstance(data.get("messages"), list):
            # A file given by its path within the export says which by its folders.
            parts = set(path.parts)
            hint = platform or ("instagram" if parts & IG_ROOTS else
                                "facebook" if parts & FB_ROOTS else None)
            name, layout = _meta_from_content(data, hint)
            if parts & (IG_ROOTS | FB_ROOTS):
                layout = f"{name}-json-2024"
            return MetaSource(root, platform=name, layout=layout, files=[path],
                              where=_where_from_thread_path(data), **common)
        raise ExportError(rel, "not a DM export file (unknown JSON layout)")
    raise ExportError(rel, "not a DM export (expected .zip, .json, .js, .csv or .txt)")


def _meta_source(root: Path, meta: list[Path], files: list[Path], platform, common):
    parts = {part for f in meta[:200] for part in f.relative_to(root).parts}
    first = _quiet_json(meta[0])
    name = None
    if parts & IG_ROOTS:
        name = "instagram"
    elif parts & FB_ROOTS or {f.parent.parent.name for f in meta} & FB_ONLY_BOXES:
        name = "facebook"
    elif any(f.name == "personal_information.json" for f in files):
        name = "instagram"
    elif any(f.name == "profile_information.json" for f in files):
        name = "facebook"
    if name is None:
        # No folder says which: ask the content, then the caller's hint.
        name, _ = _meta_from_content(first if isinstance(first, dict) else {}, platform)
    modern = bool(parts & (IG_ROOTS | FB_ROOTS))
    layout = f"{name}-json-2024" if modern else f"{name}-json-legacy"
    source = MetaSource(root, platform=name, layout=layout, files=meta, **common)
    _owner_from_profile(source, files)
    return source


def _meta_from_content(data: dict, hint: str | None) -> tuple[str, str]:
    """Platform and layout of a lone message file, from its media paths and keys."""
    uris = []
    for m in (data.get("messages") or [])[:500]:
        if isinstance(m, dict):
            for key in ("photos", "videos", "gifs", "audio_files", "files"):
                for item in m.get(key) or []:
                    if isinstance(item, dict) and isinstance(item.get("uri"), str):
                        uris.append(item["uri"])
    if hint in ("instagram", "facebook"):
        name = hint
    elif any(u.startswith(tuple(IG_ROOTS)) for u in uris):
        name = "instagram"
    elif any(u.startswith(tuple(FB_ROOTS)) for u in uris) or "thread_type" in data \
            or "users" in data:
        name = "facebook"
    else:
        # Both platforms wrote this same shape before 2023; Instagram is the common upload.
        name = "instagram"
    roots = IG_ROOTS | FB_ROOTS
    modern = any(u.startswith(tuple(roots)) for u in uris)
    return name, f"{name}-json-2024" if modern else f"{name}-json-legacy"


def _where_from_thread_path(data: dict):
    """A lone message_1.json names its thread by thread_path, not by its own folder."""
    thread_path = data.get("thread_path")
    if isinstance(thread_path, str) and "/" in thread_path:
        box, _, folder = thread_path.strip("/").rpartition("/")
        return box.rsplit("/", 1)[-1], folder
    return None


def _owner_from_profile(source: ExportSource, files: list[Path]) -> None:
    """personal_information (Instagram) or profile_information (Facebook) names the owner."""
    for f in files:
        if f.name not in ("personal_information.json", "profile_information.json"):
            continue
        data = _quiet_json(f)
        names: list[str] = []
        if isinstance(data, dict) and isinstance(data.get("profile_user"), list):
            for entry in data["profile_user"]:
                fields = entry.get("string_map_data", {}) if isinstance(entry, dict) else {}
                for key in ("Name", "Username"):
                    value = fields.get(key, {}).get("value") if isinstance(fields, dict) else None
                    if isinstance(value, str) and value:
                        names.append(fix_mojibake(value))
        elif isinstance(data, dict):
            profile = data.get("profile_v2") or data.get("profile") or {}
            name = profile.get("name") if isinstance(profile, dict) else None
            if isinstance(name, dict):
                name = name.get("full_name")
            if isinstance(name, str) and name:
                names.append(fix_mojibake(name))
        if names:
            source.detected_me = names[0]
            source.me_aliases = names
            return


# The files that name an export's owner, where the platforms put them.
OWNER_FILES = {"x": ("account.js", "data/account.js"),
               "linkedin": ("Profile.csv", "profile.csv")}
PROFILE_FOLDERS = ("personal_information", "profile_information")
BESIDE_LEVELS = 6


def _owner_beside(source: ExportSource, given: Path) -> None:
    """One file or one folder out of an export: look beside it, up to the export's top, for
    the file that names the owner (X data/account.js, Instagram personal_information,
    Facebook profile_information, LinkedIn Profile.csv). Only for paths the operator gave on
    the command line: an upload is never looked beside."""
    if source.detected_me or getattr(source, "_account", None) or \
            getattr(source, "_profile", None):
        return
    start = given if given.is_dir() else given.parent
    for folder in [start, *start.parents][:BESIDE_LEVELS]:
        if source.platform in OWNER_FILES:
            found = next((folder / name for name in OWNER_FILES[source.platform]
                          if (folder / name).is_file()), None)
            if found is not None:
                if source.platform == "x":
                    source._account = found
                else:
                    source._profile = found
                return
        elif source.platform in ("instagram", "facebook"):
            files = [f for name in PROFILE_FOLDERS if (folder / name).is_dir()
                     for f in _walk(folder / name)]
            files += [folder / f"{name}.json" for name in PROFILE_FOLDERS
                      if (folder / f"{name}.json").is_file()]
            _owner_from_profile(source, files)
            if source.detected_me:
                return
        else:
            return   # TikTok names its owner inside the file; WhatsApp never does


def _linkedin_source(root: Path, csvs: list[Path], files: list[Path], label: str, common):
    preferred = [f for f in csvs if f.name.lower() == "messages.csv"] or csvs
    if len(preferred) > 1:
        raise ExportError(label, "holds several LinkedIn message files; upload one at a time")
    profile = next((f for f in files if f.name.lower() == "profile.csv"), None)
    return LinkedInSource(root, path=preferred[0], profile=profile, **common)


def _quiet_json(path: Path):
    """JSON for sniffing only: a broken file here is simply not what we are looking for."""
    try:
        return json_sample(path, path.name)
    except ExportError:
        return None

