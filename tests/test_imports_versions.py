"""Import runs carry an optimistic version like deals and contacts: two tabs answering one
preview cannot overwrite each other, a job cannot undo a cancel, and none of it is a 500."""
import re

from sqlalchemy import text

from crm.extensions import db
from crm.imports.dm_exports import plan as dm_plan, services as dm_service
from crm.imports.models import ImportRun
from tests.test_imports_support import (import_storage,  # noqa: F401 (fixture)
                                        DATA, FIXTURES, ME, fresh, nothing_written, run_id,
                                        upload_csv, upload_dm)

CHANGED = "This import was changed (in another tab or by someone else) since you loaded the page."


def version_on(page: str) -> int:
    versions = set(re.findall(r'name="version" value="(\d+)"', page))
    assert len(versions) == 1, versions
    return int(versions.pop())


def test_every_form_of_a_preview_carries_the_runs_version(auth, rep):
    client = auth.login(rep)
    rid = run_id(upload_dm(client, FIXTURES / "instagram"))
    page = client.get(f"/imports/{rid}").get_data(as_text=True)
    assert version_on(page) == db.session.get(ImportRun, rid).version
    assert page.count('name="version"') == page.count('name="csrf_token"') - 1   # all but sign-out


def test_two_tabs_answering_one_preview_get_a_clear_conflict(auth, rep):
    client = auth.login(rep)
    rid = run_id(upload_dm(client, DATA / "instagram_legacy"))
    loaded = version_on(client.get(f"/imports/{rid}").get_data(as_text=True))
    # Tab one skips the first thread; tab two, drawn from the same page, then answers it.
    client.post(f"/imports/{rid}/threads", data={"t-0-action": "skip", "version": loaded})
    fresh()
    saved = dict(db.session.get(ImportRun, rid).options["choices"])
    resp = client.post(f"/imports/{rid}/threads", data={"t-0-action": "import",
                                                        "version": loaded},
                       follow_redirects=True)
    assert resp.status_code == 200 and CHANGED in resp.get_data(as_text=True)
    for path, data in [("me", {"me": ME}), ("cancel", {}), ("confirm", {"t-0-action": "import"})]:
        resp = client.post(f"/imports/{rid}/{path}", data={**data, "version": loaded},
                           follow_redirects=True)
        assert resp.status_code == 200 and CHANGED in resp.get_data(as_text=True), path
    fresh()
    run = db.session.get(ImportRun, rid)
    assert run.status == "previewed" and run.options["choices"] == saved
    assert nothing_written()


def test_a_csv_mapping_from_an_old_page_is_a_conflict(auth, manager):
    client = auth.login(manager)
    rid = run_id(upload_csv(client, "Name,Email\nAda,ada@example.com\n"))
    loaded = version_on(client.get(f"/imports/{rid}").get_data(as_text=True))
    client.post(f"/imports/{rid}/mapping", data={"col-0": "name", "col-1": "email",
                                                 "version": loaded})
    resp = client.post(f"/imports/{rid}/remap", data={"version": loaded}, follow_redirects=True)
    assert CHANGED in resp.get_data(as_text=True)
    fresh()
    assert db.session.get(ImportRun, rid).options["stage"] == "review"


def test_a_preview_cancelled_while_it_is_read_stays_cancelled(auth, rep, monkeypatch):
    client = auth.login(rep)
    rid = run_id(upload_dm(client, FIXTURES / "instagram"))
    db.session.execute(text("UPDATE import_runs SET status = 'analysing' WHERE id = :id"),
                       {"id": rid})
    db.session.commit()
    fresh()
    summarise = dm_plan.summarise

    def read_while_someone_cancels(src):
        summary = summarise(src)
        with db.engine.begin() as other:     # another request cancels the run meanwhile
            other.execute(text("UPDATE import_runs SET status = 'cancelled', "
                               "version = version + 1 WHERE id = :id"), {"id": rid})
        return summary

    monkeypatch.setattr(dm_plan, "summarise", read_while_someone_cancels)
    dm_service.analyse(rid)          # finishes reading: must not turn it back into a preview
    fresh()
    assert db.session.get(ImportRun, rid).status == "cancelled"
