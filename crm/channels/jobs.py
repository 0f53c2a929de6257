"""Background work of live channels, run by the job queue's workers."""


def enqueue_event(event_id: int) -> None:
    """Hand a stored event to the worker.

    Until the job queue is in place, stored events wait as "pending" and
    `flask channels process` works through them.
    """
