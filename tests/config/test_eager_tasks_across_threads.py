"""Tests run Celery tasks eagerly, and concurrency tests do so from several threads at once.

Celery marks "a task is running, do not wait on a result" in one process-wide flag that each
eager call sets and then puts back. Threads interleave those set-and-put-back steps, so the
flag can stay set after every thread is done, and a later test that waits on a result fails
with "Never call result.get() within a task!" (the clean-clone CI run of 2026-11-30 did, in
the mirror tests). The suite puts the flag back after every test; these two tests, run in
this order, hold it to that.
"""

import threading

from celery import shared_task
from celery._state import task_join_will_block


@shared_task
def _pause() -> str:
    threading.Event().wait(0.001)
    return "done"


def test_eager_tasks_from_several_threads_at_once_can_leave_the_flag_set():
    for _ in range(50):
        threads = [
            threading.Thread(target=lambda: [_pause.delay() for _ in range(20)]) for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if task_join_will_block():
            return
    raise AssertionError("the threads never left the flag set; this test proves nothing")


def test_the_next_test_can_wait_on_a_task_result():
    assert not task_join_will_block()
    assert _pause.apply().get() == "done"
