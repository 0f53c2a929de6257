"""Channel tests drive the worker themselves (run_worker, replies.deliver), so the jobs the
requests queue are held instead of running at commit; test_jobs_wiring lets them run."""
import pytest


@pytest.fixture(autouse=True)
def held_jobs(request, monkeypatch):
    if request.node.get_closest_marker("eager_jobs"):
        yield None
        return
    from crm.jobs import queue

    held = []
    monkeypatch.setattr(queue, "send", held.append)
    yield held
