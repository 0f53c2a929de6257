"""Reading a contacts spreadsheet: encoding, delimiter, header row, and column guesses."""
from __future__ import annotations

import codecs
import csv
import re
from pathlib import Path

from crm.contacts.models import PLATFORM_LABELS, PLATFORMS

# Rapport fields a column can fill, with the header words that usually mean them.
FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "name": ("Name", ("name", "full name", "fullname", "contact", "contact name",
                      "display name", "creator", "influencer")),
    "first_name": ("First name", ("first name", "firstname", "given name", "first", "forename")),
    "last_name": ("Last name", ("last name", "lastname", "surname", "family name", "last")),
    "email": ("Email", ("email", "e mail", "email address", "mail", "e mail address",
                        "work email")),
    "phone": ("Phone", ("phone", "phone number", "mobile", "mobile number", "tel", "telephone",
                        "cell", "cell phone")),
    "company": ("Company", ("company", "organisation", "organization", "brand", "business",
                            "company name", "employer", "agency")),
    "location": ("Location", ("location", "city", "country", "address", "region")),
    "kind": ("Kind", ("kind", "type", "contact type", "record type")),
    "tags": ("Tags", ("tags", "tag", "labels", "label", "groups", "lists")),
    "consent": ("Consent", ("consent", "consent status", "marketing consent", "opt in",
                            "opted in", "subscribed", "subscription", "permission")),
    "do_not_contact": ("Do not contact", ("do not contact", "dnc", "do not message",
                                          "blocked")),
    "owner_email": ("Owner email", ("owner", "owner email", "assigned to", "rep",
                                    "account owner", "sales rep")),
    "notes": ("Notes", ("notes", "note", "description", "comments", "comment", "bio", "about")),
    "niche": ("Niche", ("niche", "category", "vertical", "topic")),
    "lead_source": ("Lead source", ("lead source", "source", "lead origin")),
    "rate_per_post": ("Rate per post", ("rate per post", "rate", "fee", "price per post",
                                        "rate card")),
    "estimated_value": ("Estimated value", ("estimated value", "deal value", "value",
                                            "potential value")),
    "currency": ("Currency", ("currency", "ccy")),
    "rapport_id": ("Rapport ID", ("rapport id",)),
}
HANDLE_WORDS = {
    "instagram": ("instagram", "ig", "insta"),
    "x": ("x", "twitter", "x twitter", "twitter x"),
    "tiktok": ("tiktok", "tik tok"),
    "youtube": ("youtube", "yt", "youtube channel"),
    "linkedin": ("linkedin", "linked in"),
    "facebook": ("facebook", "fb"),
    "whatsapp": ("whatsapp", "whats app", "wa"),
    "snapchat": ("snapchat", "snap"),
    "email": ("email handle",),
    "other": ("other handle",),
}
HANDLE_SUFFIXES = ("", " handle", " username", " user", " url", " profile", " profile url",
                   " link", " account", " number", " id")
for _platform in PLATFORMS:
    FIELDS[f"handle:{_platform}"] = (f"{PLATFORM_LABELS[_platform]} handle", ())
# What each field is called in the export, so an exported file reads back unchanged.
EXPORT_ORDER = ["name", "first_name", "kind", "email", "phone", "company", "location",
                "owner_email", "tags", "consent", "do_not_contact", "niche", "rate_per_post",
                "currency", "lead_source", "estimated_value", "notes"] + \
               [f"handle:{p}" for p in PLATFORMS] + ["rapport_id"]
SAMPLE_ROWS = 3
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class CsvFileError(ValueError):
    """The file cannot be read as a spreadsheet; str() names the file and the reason."""


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Excel's cp1252, else latin-1."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8", "cp1252"):
        if _decodes(path, encoding):
            return encoding
    return "latin-1"


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1024 * 1024):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def sniff_delimiter(header_line: str) -> str:
    """The separator the header row uses most (outside quotes): comma, semicolon or tab."""
    counts = {",": 0, ";": 0, "\t": 0}
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def open_text(path: Path, encoding: str):
    return open(path, "r", encoding=encoding, newline="")


def read_head(path: Path, label: str) -> dict:
    """Encoding, delimiter, headers and a few sample rows, or CsvFileError."""
    encoding = detect_encoding(path)
    try:
        with open_text(path, encoding) as fh:
            first = fh.readline()
    except UnicodeDecodeError:
        raise CsvFileError(f"{label}: the text encoding could not be read.") from None
    if "\x00" in first:
        raise CsvFileError(f"{label}: this is not a text spreadsheet (save it as CSV first).")
    if not first.strip():
        raise CsvFileError(f"{label}: the file is empty or has no header row.")
    delimiter = sniff_delimiter(first)
    with open_text(path, encoding) as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            headers = [h.strip().lstrip("\ufeff") for h in next(reader)]
            samples = [row for _, row in zip(range(SAMPLE_ROWS), reader)]
        except csv.Error as e:
            raise CsvFileError(f"{label}: not a readable CSV file ({e}).") from None
    if not any(headers):
        raise CsvFileError(f"{label}: the first row must name the columns.")
    if len(headers) == 1 and len(first) > 200:
        raise CsvFileError(f"{label}: no column separator found (comma, semicolon or tab).")
    return {"encoding": encoding, "delimiter": delimiter, "headers": headers,
            "samples": [[clean_cell(c) for c in row] for row in samples]}


def data_rows(path: Path, encoding: str, delimiter: str):
    """(row number as a spreadsheet shows it, cells) for each row after the header."""
    with open_text(path, encoding) as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        next(reader, None)
        for number, row in enumerate(reader, start=2):
            if any(cell.strip() for cell in row):
                yield number, row


def clean_cell(value: str) -> str:
    """Trim, and undo the apostrophe the export puts before formula-like values."""
    value = value.strip()
    if len(value) > 1 and value[0] == "'" and (value[1] in FORMULA_START or value[1] == "'"):
        value = value[1:]
    return value


def guard_cell(value) -> str:
    """What the export writes: text that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) or text.startswith("'"):
        return "'" + text
    return text


def _words(header: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", header.casefold().replace("@", "")).split())


def guess_field(header: str) -> str:
    """The Rapport field a header most likely means, or "" (not imported)."""
    words = _words(header)
    if not words:
        return ""
    for key, (label, aliases) in FIELDS.items():
        if words == _words(label) or words in aliases:
            return key
    for platform, names in HANDLE_WORDS.items():
        if any(words == n + s for n in names for s in HANDLE_SUFFIXES):
            return f"handle:{platform}"
    return ""


def guess_mapping(headers: list[str]) -> list[str]:
    """One field per column; a field already taken by an earlier column is not reused."""
    taken: set[str] = set()
    out = []
    for header in headers:
        field = guess_field(header)
        if field in taken:
            field = ""
        if field:
            taken.add(field)
        out.append(field)
    return out


def field_label(key: str) -> str:
    return FIELDS[key][0] if key in FIELDS else ""
