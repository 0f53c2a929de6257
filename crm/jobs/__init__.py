"""Background jobs: slow work runs in worker processes, on a Huey queue.

The queue is Huey's: SQLite storage in `instance/` for `make run` (nothing to install),
Redis (`REDIS_URL`) in production, where any number of workers on any number of machines
share it, and "immediate" in the tests (a job runs as soon as the request commits).
Every job has a row in `jobs` (crm.jobs.models.Job): its state, attempts, progress and the
message its user sees; the admin page /admin/jobs lists them and retries a failed one.

How to add a job
----------------
1. In your feature, write a function that takes the Job row and plain arguments (ids,
   strings, numbers: they are stored as JSON), does its work through services, and commits
   at its own unit of work. Make it idempotent: a job killed half way is run again, so it
   must look at the state it finds (a status, a unique key) and never write twice::

       # crm/<feature>/jobs.py  (imported by create_app, so every worker knows it)
       from crm import jobs

       @jobs.job("webhooks.deliver", label="Outbound webhook")
       def deliver(job, delivery_id: int) -> None:
           ...
           jobs.fence()          # before a commit that must happen once (see runner.fence)
           db.session.commit()

   Raise `jobs.JobFailed("what the user should read")` for a failure the user can act on;
   any other exception is logged in full and the user reads the job's `failure` text.
2. Enqueue it where the work is asked for (a view or a service); it is sent to the queue
   when the current transaction commits, and not at all if it rolls back::

       jobs.enqueue("webhooks.deliver", delivery.id, user=current_user,
                    subject=f"webhook-delivery:{delivery.id}")

   `subject` names what the job works on: two jobs with the same subject never run at
   the same time (a lease held while it runs, safe across machines).
3. Something to do every few minutes: `@jobs.periodic("name", minutes=5)`.
"""
from crm.jobs.queue import enqueue, huey, periodic  # noqa: F401
from crm.jobs.registry import JobFailed, job  # noqa: F401
from crm.jobs.runner import current, fence, report_progress  # noqa: F401
