"""Giving memory the app has freed back to the operating system.

glibc's malloc keeps what Python, torch and the tokenizers free in its arenas (one per thread that allocates, up
to 8 per core: Gradio runs handlers on up to 40 worker threads) and returns it to the system only from the top of
a heap, so the app's RSS ratchets up and never comes down. malloc_trim(0) gives back every free page of every
arena (benchmarks/soak.py measures it: README, "Soak"). Blocks of at least M_MMAP_THRESHOLD bytes get a mapping of
their own instead, unmapped when freed; but glibc raises that threshold (up to 32 MB) every time such a block is
freed, after which torch's activations go into the arenas too and fragment them beyond what malloc_trim can give
back. Elsewhere than on glibc both do nothing.
"""

import asyncio
import ctypes
import ctypes.util
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


_LIBC = _glibc()
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number, from malloc.h


def trim() -> bool:
    """Return the free pages of every malloc arena to the system; whether any memory was given back."""
    return bool(_LIBC is not None and _LIBC.malloc_trim(0) == 1)


def map_large_blocks(threshold_bytes: int) -> bool:
    """Give every block of at least threshold_bytes a mapping of its own, for good (0: leave glibc's moving
    threshold); whether it was set."""
    return bool(_LIBC is not None and threshold_bytes > 0 and _LIBC.mallopt(_M_MMAP_THRESHOLD, threshold_bytes) == 1)


@asynccontextmanager
async def trimming(interval_s: float) -> AsyncIterator[None]:
    """While the context is open, trim() every interval_s seconds in a worker thread (0: never)."""

    async def every_interval() -> None:
        while True:
            await asyncio.sleep(interval_s)
            await asyncio.to_thread(trim)

    task = asyncio.create_task(every_interval()) if interval_s > 0 else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
