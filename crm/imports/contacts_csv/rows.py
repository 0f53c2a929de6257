"""One spreadsheet row to clean values, with every problem named by its column."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from crm.contacts.handles import HandleError, normalize_handle
from crm.contacts.models import KINDS
from crm.contacts.services import parse_tags
from crm.imports.contacts_csv.read import clean_cell

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
HANDLE_SEPARATORS = re.compile(r"[;,\n]+")
OWN_ID_HANDLE = re.compile(r"id:\d{1,30}")
LENGTHS = {"name": 200, "first_name": 100, "email": 255, "phone": 50, "company": 200,
           "location": 200, "niche": 100, "lead_source": 100, "notes": 20000}
KIND_WORDS = {"contact": "contact", "contacts": "contact", "influencer": "influencer",
              "influencers": "influencer", "creator": "influencer", "creators": "influencer",
              "lead": "lead", "leads": "lead", "prospect": "lead"}
OPTED_IN = {"opted_in", "opted in", "opt in", "opt-in", "optin", "yes", "y", "true", "1",
            "subscribed", "granted", "consented"}
OPTED_OUT = {"opted_out", "opted out", "opt out", "opt-out", "optout", "no", "n", "false", "0",
             "unsubscribed", "declined", "withdrawn", "refused"}
SAYS_NOTHING = {"unknown", "", "-", "n/a", "na", "none"}
YES = {"yes", "y", "true", "1", "x", "dnc", "do not contact", "do-not-contact"}
NO = {"no", "n", "false", "0", "-"}
SCALARS = ("name", "first_name", "email", "phone", "company", "location", "kind", "notes",
           "niche", "lead_source", "currency", "rate_per_post_minor", "estimated_value_minor")


@dataclass
class RowInput:
    number: int
    values: dict = field(default_factory=dict)        # contact column → clean value
    handles: list = field(default_factory=list)       # (platform, handle, column header)
    tags: list | None = None
    consent: str | None = None                        # opted_in | opted_out | None (silent)
    dnc: bool | None = None
    owner_email: str | None = None
    rapport_id: int | None = None
    errors: list = field(default_factory=list)        # (column header, reason)
    columns: dict = field(default_factory=dict)       # field → header, for messages

    @property
    def name(self) -> str:
        return self.values.get("name") or ""

    def fail(self, fieldname: str, reason: str) -> None:
        self.errors.append((self.columns.get(fieldname, fieldname), reason))


def pack(rows: list[RowInput]) -> tuple:
    """A chunk of rows as plain tuples (kept between the check and the import: a third the
    work of pickling the objects); the column names, the same for every row, once."""
    return (rows[0].columns if rows else {},
            [(r.number, r.values, r.handles, r.tags, r.consent, r.dnc, r.owner_email,
              r.rapport_id, r.errors) for r in rows])


def unpack(packed: tuple) -> list[RowInput]:
    columns, rows = packed
    return [RowInput(*r, columns=columns) for r in rows]


def column_names(mapping: list[str], headers: list[str]) -> dict:
    """field → the header of its column, for messages (worked out once per file)."""
    out: dict[str, str] = {}
    for index, fieldname in enumerate(mapping):
        if fieldname:
            out.setdefault(fieldname, headers[index] if index < len(headers) else fieldname)
    return out


def mapped_columns(mapping: list[str], headers: list[str]) -> list[tuple]:
    """(index, field, header, is a handle column) of each mapped column, once per file."""
    return [(index, fieldname, headers[index] if index < len(headers) else fieldname,
             fieldname.startswith("handle:"))
            for index, fieldname in enumerate(mapping) if fieldname]


def parse_row(number: int, cells: list[str], mapping: list[str], headers: list[str],
              columns: dict | None = None, mapped: list[tuple] | None = None) -> RowInput:
    """Clean every mapped cell; empty cells say nothing (they never clear a value)."""
    row = RowInput(number, columns=columns if columns is not None else
                   column_names(mapping, headers))
    raw: dict[str, str] = {}
    width = len(cells)
    for index, fieldname, header, is_handle in (mapped if mapped is not None else
                                                 mapped_columns(mapping, headers)):
        if index >= width:
            continue
        value = cells[index].strip()
        if not value:
            continue
        if value[0] == "'":
            value = clean_cell(value)
        if is_handle:
            _handles(row, fieldname, value, header)
        else:
            raw[fieldname] = value
    for fieldname, value in raw.items():
        _convert(row, fieldname, value)
    if not row.values.get("name"):
        full = " ".join(v for v in (raw.get("first_name"), raw.get("last_name")) if v)
        if full:
            row.values["name"] = full[:200]
    return row


def _convert(row: RowInput, fieldname: str, value: str) -> None:
    if fieldname in LENGTHS:
        if len(value) > LENGTHS[fieldname]:
            row.fail(fieldname, f"longer than {LENGTHS[fieldname]} characters")
            return
        if fieldname == "email":
            value = value.lower().removeprefix("mailto:")
            if not EMAIL.match(value):
                row.fail(fieldname, f"“{value}” is not an email address")
                return
        row.values[fieldname] = value.replace("\r\n", "\n") if fieldname == "notes" else value
    elif fieldname == "kind":
        kind = KIND_WORDS.get(value.strip().lower())
        if kind is None:
            row.fail(fieldname, f"“{value}” is not a kind (use {', '.join(KINDS)})")
        else:
            row.values["kind"] = kind
    elif fieldname == "consent":
        word = value.strip().lower().replace("_", " ")
        if word in {w.replace("_", " ") for w in OPTED_OUT}:
            row.consent = "opted_out"
        elif word in {w.replace("_", " ") for w in OPTED_IN}:
            row.consent = "opted_in"
        elif word not in SAYS_NOTHING:
            row.fail(fieldname, f"“{value}” is not a consent value (use opted_in, opted_out "
                                "or unknown)")
    elif fieldname == "do_not_contact":
        word = value.strip().lower()
        if word in YES:
            row.dnc = True
        elif word in NO:
            row.dnc = False
        else:
            row.fail(fieldname, f"“{value}” is not yes or no")
    elif fieldname == "tags":
        row.tags = sorted({t.lower()[:64] for t in parse_tags(value)})
    elif fieldname == "owner_email":
        row.owner_email = value.lower()
    elif fieldname in ("rate_per_post", "estimated_value"):
        amount = _money(value)
        if amount is None:
            row.fail(fieldname, f"“{value}” is not an amount (e.g. 1500 or 1500.50)")
        else:
            row.values[f"{fieldname}_minor"] = amount
    elif fieldname == "currency":
        code = value.strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", code):
            row.fail(fieldname, f"“{value}” is not a currency code (e.g. USD, EUR)")
        else:
            row.values["currency"] = code
    elif fieldname == "rapport_id":
        if value.isdigit():
            row.rapport_id = int(value)
        else:
            row.fail(fieldname, f"“{value}” is not a Rapport ID")


def _money(value: str) -> int | None:
    text = value.replace(",", "").replace(" ", "").replace("\u00a0", "")
    text = text.lstrip("$€£").removesuffix("USD").removesuffix("EUR").removesuffix("GBP")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if amount < 0 or amount.as_tuple().exponent < -2 or not amount.is_finite():
        return None
    return int(amount * 100)


def _handles(row: RowInput, fieldname: str, value: str, header: str) -> None:
    platform = fieldname.split(":", 1)[1]
    for part in HANDLE_SEPARATORS.split(value):
        part = part.strip()
        if not part:
            continue
        if OWN_ID_HANDLE.fullmatch(part):
            # How a DM import keeps a person known only by account id (see dm_write).
            if (platform, part) not in {(p, h) for p, h, _ in row.handles}:
                row.handles.append((platform, part, header))
            continue
        try:
            handle = normalize_handle(platform, part)
        except HandleError as e:
            row.errors.append((header, str(e).rstrip(".")))
            continue
        if (platform, handle) not in {(p, h) for p, h, _ in row.handles}:
            row.handles.append((platform, handle, header))
