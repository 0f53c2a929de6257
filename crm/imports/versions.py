"""An import run's optimistic version, as deals and contacts have: every form of a preview
carries the version it was drawn from, so two tabs (or two people) answering one preview
cannot overwrite each other's choices, and a job that finishes reading cannot undo a cancel."""
import logging

from sqlalchemy.orm.exc import StaleDataError

from crm.core.versions import expect_version, flush_or_conflict
from crm.extensions import db
from crm.imports.models import ImportRun

log = logging.getLogger(__name__)
MESSAGE = ("This import was changed (in another tab or by someone else) since you loaded the "
           "page. Nothing was saved; the page now shows it as it is.")


def expect(run: ImportRun, expected_version: int | None) -> None:
    """Refuse a change made from a page drawn from an older version of the run."""
    expect_version(run, expected_version, MESSAGE)


def save(run: ImportRun) -> None:
    """Flush the run, turning a lost race on its version into a Conflict."""
    flush_or_conflict(MESSAGE)


def commit_unless_changed(run_id: int) -> bool:
    """Commit what a job (or the stalled-run check) wrote on the run; when the run was changed
    meanwhile (cancelled, given up as stalled, finished) nothing is written and False is
    returned: the run stays as the other change left it."""
    try:
        db.session.commit()
        return True
    except StaleDataError:
        db.session.rollback()
        log.info("import run %s changed meanwhile; this change of it is dropped", run_id)
        return False

