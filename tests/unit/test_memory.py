"""Memory that only went up: freed memory given back to the system, and Gradio's per-session copies bounded."""

import asyncio
import inspect
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import gradio.queueing
import psutil
import pytest
from gradio.state_holder import StateHolder

from conftest import ROOT

from playground import config, memory

glibc = pytest.mark.skipif(memory._LIBC is None, reason="malloc_trim is glibc's")


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def filled(size: int) -> bytearray:
    """A block whose every page is written, so it counts in RSS (a zeroed block from calloc may not)."""
    return bytearray(b"x") * size


@glibc
def test_trim_gives_back_memory_freed_between_live_blocks():
    blocks = [filled(64 * 1024) for _ in range(3200)]  # 200 MB below the mmap threshold: in malloc's heap
    del blocks[::10]
    kept = blocks[::9]  # a live block every 90: free() alone can only return the top of the heap
    blocks.clear()
    before = rss_mb()
    assert memory.trim()
    assert before - rss_mb() > 100
    assert kept


LARGE_BLOCKS = """
import sys, psutil
from playground import memory
def rss_mb(): return psutil.Process().memory_info().rss / 2**20
def filled(size): return bytearray(b"x") * size
if sys.argv[1] == "fixed":
    assert memory.map_large_blocks(2**20)  # the app's default (a smaller one would slow the rest of the tests)
filled(8 * 2**20)  # made and freed at once: glibc's own threshold is now 8 MB
blocks = [filled(2 * 2**20) for _ in range(100)]  # below 8 MB, above 1 MB
kept = blocks[-1]  # keeps the 99 blocks under it in the heap, freed but not given back, unless each has its own mapping
before = rss_mb()
blocks.clear()
print(before - rss_mb())
"""


@glibc
@pytest.mark.parametrize(("threshold", "given_back"), [("fixed", lambda mb: mb > 150), ("glibc's", lambda mb: mb < 50)])
def test_large_blocks_are_given_back_as_soon_as_freed_once_the_threshold_is_fixed(threshold, given_back):
    """In a fresh process: in one that has freed blocks before (this one), malloc reuses those before mapping any."""
    run = subprocess.run([sys.executable, "-c", LARGE_BLOCKS, threshold], capture_output=True, text=True, cwd=ROOT,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    assert given_back(float(run.stdout)), f"{threshold} threshold: {run.stdout.strip()} MB given back"


def test_trimming_trims_every_interval_until_closed(monkeypatch):
    calls = []
    monkeypatch.setattr(memory, "trim", lambda: calls.append(1))

    async def open_for(interval_s: float, seconds: float) -> None:
        async with memory.trimming(interval_s):
            await asyncio.sleep(seconds)

    def run(interval_s: float, seconds: float) -> None:
        """In a loop of its own: the browser tests leave one running in this thread."""
        with ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, open_for(interval_s, seconds)).result()

    run(0.01, 0.2)
    made = len(calls)
    assert made >= 3
    run(0, 0.05)
    assert len(calls) == made


def test_app_keeps_the_most_recent_sessions_only_and_polls_its_queue_less_often(monkeypatch):
    from playground.ui import build_app

    monkeypatch.setattr(config, "MAX_SESSIONS", 3)
    app = build_app()
    holder = StateHolder()
    holder.set_blocks(app)  # what mounting the app does
    for session in ["first", "second", "third", "fourth"]:
        holder[session]
    assert "first" not in holder and "fourth" in holder
    # the attributes build_app sets must still be the ones Gradio's queue loops read
    assert app._queue.sleep_when_free == config.QUEUE_POLL_S
    assert "self.sleep_when_free" in inspect.getsource(gradio.queueing.Queue.start_processing)
    assert "self.progress_update_sleep_when_free" in inspect.getsource(gradio.queueing.Queue.start_progress_updates)
