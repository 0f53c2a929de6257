"""The first-response counts' change log added to the day counts by a worker every minute,
so that no dashboard load has to write (it reads the changes not added yet as well)."""
from crm import jobs
from crm.reports import response_rollup


@jobs.periodic("reports.response_changes", minutes=1, label="First-response counts")
def add_response_changes(job) -> dict:
    """Add the logged changes to the response times to the day counts (commits)."""
    added = response_rollup.prepare()
    return {"summary": f"{added} change{'s' if added != 1 else ''} added"}
