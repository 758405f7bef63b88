"""The memory budget that shot stagings share."""

from __future__ import annotations

import os
import threading

from inkreel.agents.editor import staging_mb
from inkreel.providers.limits import MemoryBudget
from inkreel.schemas import VideoClip
from inkreel.schemas.segment import SegmentTask

from .test_checks_storyboard import clean_shots


def test_a_memory_budget_is_shared_and_big_work_runs_alone() -> None:
    budget = MemoryBudget(200)
    assert budget.acquire(100) and budget.acquire(100, blocking=False)
    assert not budget.acquire(1, blocking=False)  # full
    budget.release(100)
    assert not budget.acquire(130, blocking=False)  # 100 + 130 is over
    budget.release(100)
    assert budget.acquire(250, blocking=False)  # more than the whole budget: alone
    assert not budget.acquire(1, blocking=False)
    budget.release(250)


def test_a_waiting_request_is_served_before_later_ones() -> None:
    budget = MemoryBudget(200)
    budget.acquire(100)
    waiter = threading.Thread(target=budget.acquire, args=(180,))
    waiter.start()
    while not budget.waiting:  # until the big request has queued
        os.sched_yield()
    assert not budget.acquire(50, blocking=False)  # it would fit, but may not jump the queue
    budget.release(100)
    waiter.join()
    assert budget.waiting == 0
    assert not budget.acquire(50, blocking=False)  # 180 + 50 is over
    budget.release(180)
    assert budget.acquire(50, blocking=False)


def test_what_staging_a_clip_costs() -> None:
    shot = clean_shots()[0]

    def task(move: str, *, staged: bool = True, size: tuple[int, int] = (1280, 720), **kw):  # type: ignore[no-untyped-def]
        clip = VideoClip(shot_id=shot.id, start=0, frames=48, move=move)
        return SegmentTask(
            clip=clip, shot=shot, keyframe_staged=staged, fps=24, width=size[0],
            height=size[1], seed=0, **kw,
        )  # fmt: skip

    assert staging_mb(task("static")) == 100
    assert staging_mb(task("pan")) == 130
    assert staging_mb(task("static", dissolve_into=task("static"))) == 130
    assert staging_mb(task("push_in")) == staging_mb(task("static", dissolve_into=task("pull_out")))
    assert staging_mb(task("push_in")) == 180
    assert staging_mb(task("static", size=(640, 360))) == 25
    assert staging_mb(task("push_in", staged=False)) == 0  # a hosted still: nothing staged
    title = SegmentTask(
        clip=VideoClip(shot_id="title", start=0, frames=72, title="T"), fps=24, width=1280,
        height=720, seed=0,
    )  # fmt: skip
    assert staging_mb(title) == 0
