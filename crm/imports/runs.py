"""What both importers do to a run: who owns what it creates, and how it fails."""
from __future__ import annotations

from crm import policy
from crm.accounts.models import User
from crm.core.errors import ValidationFailed
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.imports import storage
from crm.imports.models import ImportRun


def check_owner(actor, owner_id: int | None) -> int | None:
    """Reps import for themselves; managers may import on behalf of anyone active."""
    if not policy.can_reassign(actor):
        return actor.id
    if owner_id is None:
        return actor.id
    owner = db.session.get(User, owner_id)
    if owner is None or not owner.active:
        raise ValidationFailed("Choose an active user as owner.", field="owner_id")
    return owner.id


def fail(run: ImportRun, problem: str, *, keep_upload: bool = False) -> None:
    """The run failed with `problem` (what the user reads). Its upload is deleted, or kept
    (keep_upload) when the job may be retried; the clean-up deletes it after a while."""
    run.status = "failed"
    run.problems = [problem]
    run.finished_at = utcnow()
    if not keep_upload:
        storage.remove(run)
