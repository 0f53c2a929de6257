"""/api/v1/tasks: the Today lists (overdue, today, upcoming; the same query), a task, making
one (outreach tasks pass the consent gate) and completing one."""
from flask_login import current_user

from crm import policy
from crm.api import paging
from crm.api.blueprint import bp
from crm.api.schemas import TaskArgs, TaskIn, TaskOut, VersionIn, page_of
from crm.core.timeutil import to_utc_naive
from crm.extensions import db
from crm.tasks import services
from crm.tasks.queries import section_rows

TAG = "Tasks"


@bp.get("/tasks/<int:task_id>", endpoint="task")
@bp.output(TaskOut)
@bp.doc(tags=[TAG], summary="Get a task", responses=[404])
def get_task(task_id):
    return policy.get_task(current_user, task_id)


@bp.get("/tasks", endpoint="tasks")
@bp.input(TaskArgs, location="query")
@bp.output(page_of(TaskOut, "TaskPage"))
@bp.doc(tags=[TAG], summary="List open tasks",
        description="One section of Today (`overdue`, `today`, `upcoming`, days in your time "
                    "zone), soonest first: yours, or for managers everyone's (`who=all`), the "
                    "unassigned ones (`who=none`) or one person's (`who=<user id>`).")
def list_tasks(query_data):
    rows, more, _who = section_rows(current_user, query_data["section"], query_data["who"],
                                    after=paging.cursor_from(query_data),
                                    limit=query_data["limit"])
    return paging.page(rows, more)


@bp.post("/tasks", endpoint="create_task")
@bp.input(TaskIn)
@bp.output(TaskOut, status_code=201)
@bp.doc(tags=[TAG], summary="Make a task",
        description="For a contact or deal you may see; an outreach task (`is_outreach`) for "
                    "someone who may not be contacted is refused (409).", responses=[409])
def create_task(json_data):
    data = dict(json_data, due_at=to_utc_naive(json_data["due_at"]))
    task = services.create_task(current_user, data)
    db.session.flush()
    return task, 201


@bp.post("/tasks/<int:task_id>/complete", endpoint="complete_task")
@bp.input(VersionIn)
@bp.output(TaskOut)
@bp.doc(tags=[TAG], summary="Complete a task", responses=[404, 409])
def complete_task(task_id, json_data):
    task = policy.get_task(current_user, task_id)
    services.complete_task(current_user, task, expected_version=json_data["version"])
    db.session.flush()
    return task
