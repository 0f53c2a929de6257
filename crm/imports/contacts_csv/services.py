"""Contacts-CSV runs: upload → map columns → check every row → import (valid rows only)."""
from __future__ import annotations

import csv
import pickle
from collections import Counter
from contextlib import nullcontext
from itertools import islice
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from crm import jobs, policy
from crm.accounts.models import User
from crm.audit import services as audit
from crm.contacts.models import Contact, SocialHandle
from crm.core.errors import ValidationFailed
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.imports import bulk, storage, versions
from crm.imports.contacts_csv import write as csv_write
from crm.imports.contacts_csv.plan import Planner, lookups, row_keys
from crm.imports.contacts_csv.read import (FIELDS, CsvFileError, data_rows, field_label,
                                           guess_mapping, read_head)
from crm.imports.contacts_csv.rows import column_names, mapped_columns, pack, parse_row, unpack
from crm.imports.models import ImportRun
from crm.imports.runs import check_owner, fail

CHUNK = 1000
LISTED = 200
EXAMPLES = 8
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


def start_upload(actor, files, *, owner_id: int | None = None) -> ImportRun:
    """Keep the file and guess what each column means; nothing is imported yet."""
    # Rows without an owner column: the chosen owner; for managers, unassigned by default
    # (as a contact they create by hand).
    owner = check_owner(actor, owner_id) if owner_id or not policy.can_reassign(actor) else None
    run = ImportRun(kind="csv", status="previewed", created_by_id=actor.id, owner_id=owner,
                    options={})
    db.session.add(run)
    db.session.flush()
    try:
        files = list(files)
        if len(files) > 1:
            raise ValidationFailed("Upload one spreadsheet at a time.", field="file")
        path, label = storage.save_uploads(run.id, files)
        head = read_head(path, label)
    except CsvFileError as e:
        storage.remove(run)
        raise ValidationFailed(str(e), field="file") from None
    except Exception:
        storage.remove(run)
        raise
    run.stored_path, run.filename = str(path), label[:255]
    run.layout = f"{head['encoding']}, {DELIMITER_NAMES[head['delimiter']]}"
    run.options = {**head, "stage": "mapping", "mapping": guess_mapping(head["headers"])}
    return run


def save_mapping(actor, run: ImportRun, mapping: list[str], *,
                 expected_version: int | None = None) -> None:
    """The columns as the user mapped them; the check of every row starts next."""
    versions.expect(run, expected_version)
    if run.kind != "csv" or run.status != "previewed":
        raise ValidationFailed("This import is no longer waiting for your review.")
    headers = run.options["headers"]
    mapping = [(m or "") for m in mapping][:len(headers)] + [""] * (len(headers) - len(mapping))
    seen: dict[str, str] = {}
    for header, fieldname in zip(headers, mapping):
        if fieldname and fieldname not in FIELDS:
            raise ValidationFailed(f"Column “{header}”: unknown field.", field="mapping")
        if fieldname in seen:
            raise ValidationFailed(f"Columns “{seen[fieldname]}” and “{header}” are both mapped "
                                   f"to {field_label(fieldname)}; choose one.", field="mapping")
        if fieldname:
            seen[fieldname] = header
    if not ({"name", "first_name", "last_name"} & set(seen)):
        raise ValidationFailed("Map a column to Name (or First name / Last name): every contact "
                               "needs a name.", field="mapping")
    run.options = {**run.options, "mapping": mapping, "stage": "checking",
                   "parsed_kept": False}
    run.status = "analysing"
    versions.save(run)


def back_to_mapping(actor, run: ImportRun, *, expected_version: int | None = None) -> None:
    versions.expect(run, expected_version)
    if run.kind != "csv" or run.status != "previewed":
        raise ValidationFailed("This import is no longer waiting for your review.")
    run.options = {**run.options, "stage": "mapping"}
    versions.save(run)


def process(actor, run: ImportRun, *, write: bool, progress=None, search=None) -> dict:
    """Decide (and with write=True apply) every row; returns counts, failures and examples.

    The check keeps the parsed rows beside the upload, each chunk with which of its rows it
    decided to create. The import reads them back; when nothing it read has changed since
    (data_version), those rows are created as decided, without looking them up again, and
    every other row is decided again against the contacts as they are now."""
    o = run.options
    planner = Planner(actor, run.owner_id, dry_run=not write)
    counts: Counter = Counter()
    failures, examples = [], {"create": [], "update": [], "unchanged": []}
    source = f"CSV import {run.filename}"
    kept = storage.run_folder(run.id) / "parsed-rows.pickle"
    if write and o.get("parsed_kept") and kept.exists():
        chunks = _kept_chunks(kept)
        reuse = o.get("data_version") is not None and data_version(actor) == o["data_version"]
    else:
        chunks = ((inputs, None) for inputs in _parsed_chunks(run))
        reuse = False
    written: set | None = set() if reuse else None   # keys of every row written so far
    with open(kept, "wb") if not write else nullcontext() as out, \
            bulk.without_cycle_collection():
        for inputs, created in chunks:
            decisions = list(_decide_chunk(actor, planner, inputs, write, source, search,
                                           created=created if reuse else None,
                                           written=written))
            if out is not None:
                # A row with a Rapport ID is always decided again: the id may be one that
                # the import itself creates before reaching it.
                flags = bytes(d.action == "create" and not d.row.rapport_id for d in decisions)
                pickle.dump((pack(inputs), flags), out, protocol=pickle.HIGHEST_PROTOCOL)
            for d in decisions:
                counts[d.action] += 1
                if d.action == "erased":
                    continue
                if d.action == "fail":
                    if len(failures) < LISTED:
                        failures.append([d.row.number, d.column, d.reason])
                elif len(examples[d.action]) < EXAMPLES:
                    examples[d.action].append(
                        [d.row.number, d.row.name or (d.contact.name if d.contact else ""),
                         d.note or _describe(d)])
            counts["rows"] += len(inputs)
            if progress:
                progress(counts["rows"], o.get("check", {}).get("rows") or counts["rows"],
                         "rows")
    return {"rows": counts["rows"], "create": counts["create"], "update": counts["update"],
            "unchanged": counts["unchanged"], "fail": counts["fail"], "failures": failures,
            "examples": examples, "reused": reuse,
            **({"erased": counts["erased"]} if counts["erased"] else {})}


def data_version(actor) -> list:
    """What a row's "create" depends on, cheaply: the contacts (every change to one bumps
    its version and updated_at; a new one raises the largest id; a deleted one lowers the
    count), the handles (only ever added or removed) and whether the user sees every
    contact. Equal before the check and before the import: nothing the check looked up
    has changed."""
    contacts = db.session.execute(select(
        func.count(Contact.id), func.max(Contact.id), func.sum(Contact.version),
        func.max(Contact.updated_at))).one()
    handles = db.session.execute(select(func.count(SocialHandle.id),
                                        func.max(SocialHandle.id))).one()
    return [contacts[0], contacts[1], int(contacts[2] or 0),
            contacts[3].isoformat() if contacts[3] else None, handles[0], handles[1],
            bool(policy.contact_scope(actor) is True), getattr(actor, "id", None)]


def _kept_chunks(path: Path):
    """The check's chunks: (parsed rows, one byte per row, 1 where the check created it)."""
    with open(path, "rb") as fh:
        while True:
            try:
                chunk = pickle.load(fh)
            except EOFError:
                return
            if isinstance(chunk, list):  # kept before the flags were
                yield chunk, None
            else:
                yield unpack(chunk[0]), chunk[1]


def _parsed_chunks(run: ImportRun):
    """Chunks of parsed rows, read from the upload."""
    o = run.options
    rows = data_rows(Path(run.stored_path), o["encoding"], o["delimiter"])
    columns = column_names(o["mapping"], o["headers"])
    mapped = mapped_columns(o["mapping"], o["headers"])
    while chunk := list(islice(rows, CHUNK)):
        yield [parse_row(n, cells, o["mapping"], o["headers"], columns, mapped)
               for n, cells in chunk]


def _decide_chunk(actor, planner, inputs, write: bool, source: str, search=None, *,
                  created: bytes | None = None, written: set | None = None):
    """Decisions for a chunk; when writing, two rows for the same person are written apart
    so the second one sees the first as an existing contact. With `created` (the check's
    flags, nothing changed since), a row the check created is created again without a
    look-up, unless an earlier row of this import wrote one of its handles or its email."""
    start = 0
    while start < len(inputs):
        found = None
        batch, keys, i = [], set(), start
        while i < len(inputs):
            row = inputs[i]
            if write:
                keys_of_row = row_keys(row)
                if keys_of_row & keys:
                    break
            if created is not None and created[i] and not (keys_of_row & written):
                d = planner.create(row)
            else:
                if found is None:
                    found = lookups(actor, [r for j, r in enumerate(inputs[i:], i)
                                            if not r.errors and not (created and created[j])])
                d = planner.decide(row, found)
            batch.append(d)
            if write and d.action in ("create", "update"):
                keys |= keys_of_row
            i += 1
        if write:
            csv_write.write(actor, batch, source, search or bulk.SearchIndexBatches())
            if written is not None:
                written |= keys
        yield from batch
        start = i


def _describe(d) -> str:
    """A few words on a row's effect: what a new contact brings, or what an update changes."""
    if d.action == "create":
        bits = [d.row.values.get("email") or ""]
        bits += [f"{p} {h}" for p, h in d.new_handles[:2]]
        if d.consent or d.dnc:
            bits.append((d.consent or "").replace("_", " ") or "do not contact")
        return ", ".join(b for b in bits if b)
    changed = _changed(d)
    return ("changes " + ", ".join(changed)) if changed else ""


def _changed(d) -> list[str]:
    out = [field_label(k.replace("_minor", "")) or k for k in d.changes]
    if d.new_handles:
        out.append("handles")
    if d.tags is not None and d.action == "update":
        out.append("tags")
    if d.owner_changed:
        out.append("owner")
    if d.consent or d.dnc is not None:
        out.append("consent")
    return out


def _progress(run_id: int):
    def progress(done, total, phase):
        storage.write_progress(run_id, done, total, phase)
        jobs.report_progress(done, total, phase)
    return progress


def check(run_id: int) -> None:
    """Job: read every row against the current contacts, writing nothing."""
    run = db.session.get(ImportRun, run_id)
    if run is None or run.status != "analysing":
        return
    actor = db.session.get(User, run.created_by_id)
    version = data_version(actor)  # before reading: a change during the check is noticed
    try:
        summary = process(actor, run, write=False, progress=_progress(run_id))
    except (csv.Error, UnicodeDecodeError) as e:
        db.session.rollback()
        fail(run, f"{run.filename}: the file could not be read to the end ({e}).")
        versions.commit_unless_changed(run_id)
        return
    db.session.rollback()  # a dry run leaves nothing behind, not even autoflushed state
    run = db.session.get(ImportRun, run_id)
    summary.pop("reused")
    run.options = {**run.options, "check": summary, "stage": "review", "parsed_kept": True,
                   "data_version": version}
    run.progress_total = summary["rows"]
    run.status = "previewed"
    versions.commit_unless_changed(run_id)   # a check cancelled while it read stays cancelled


def confirm(actor, run: ImportRun, *, valid_only: bool,
            expected_version: int | None = None) -> None:
    """Start writing; with failed rows, only when the user chose to import the valid ones."""
    versions.expect(run, expected_version)
    if run.kind != "csv" or run.status != "previewed" or run.options.get("stage") != "review":
        raise ValidationFailed("Check the rows before importing.")
    summary = run.options["check"]
    if summary["fail"] and not valid_only:
        raise ValidationFailed(f"{summary['fail']:,} rows have problems. Fix the file and upload "
                               "it again, or import only the valid rows.")
    if not (summary["create"] or summary["update"]):
        raise ValidationFailed("Nothing to import: every row is already up to date or has a "
                               "problem.")
    run.options = {**run.options, "valid_only": bool(valid_only)}
    run.status = "running"
    run.progress_done = 0
    versions.save(run)


def execute(actor, run: ImportRun, progress=None) -> None:
    """Write every valid row; the caller commits (or rolls back: then nothing is written)."""
    conn = db.session.connection()
    restore = bulk.bigger_cache(conn, int(current_app.config.get("IMPORT_SQLITE_CACHE_MB", 256)))
    try:
        with bulk.search_index_in_batches(conn, run.id) as search:
            summary = process(actor, run, write=True, progress=progress, search=search)
    finally:
        restore()
    run.counts = {"rows": summary["rows"], "contacts_created": summary["create"],
                  "contacts_updated": summary["update"], "unchanged": summary["unchanged"],
                  "rows_failed": summary["fail"],
                  **({"rows_erased": summary["erased"]} if summary.get("erased") else {})}
    run.problems = [f"Row {n}, column {col}: {reason}." for n, col, reason in summary["failures"]]
    if summary.get("erased"):
        run.problems.append(f"{summary['erased']:,} row{'s' if summary['erased'] != 1 else ''} "
                            "skipped: erased person.")
    if summary["fail"] > len(summary["failures"]):
        run.problems.append(f"…and {summary['fail'] - len(summary['failures']):,} more rows "
                            "with problems.")
    run.progress_done = summary["rows"]
    run.status = "done"
    run.finished_at = utcnow()
    audit.record(actor, "import", run,
                 summary=f"Contacts CSV {run.filename}: {summary['create']:,} created, "
                         f"{summary['update']:,} updated, {summary['fail']:,} rows skipped",
                 changes={"counts": run.counts})


def run_import(run_id: int) -> None:
    """Job: the confirmed CSV import in one transaction."""
    run = db.session.get(ImportRun, run_id)
    if run is None or run.status != "running":
        return
    actor = db.session.get(User, run.created_by_id)
    # An error rolls back, is logged in full and marks the run failed (crm.imports.jobs).
    execute(actor, run, progress=_progress(run_id))
    jobs.fence()    # still this attempt's run: then the commit writes it once
    db.session.commit()
    storage.remove(run)
    db.session.commit()
