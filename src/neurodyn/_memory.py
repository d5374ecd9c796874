"""Memory settings of neurodyn's own processes (the ``neurodyn`` command, the benchmarks).

An ensemble's tensors are megabytes each. glibc's malloc serves blocks of that size by
``mmap`` and hands them back to the kernel when they are freed, so every fresh tensor
pays its page faults again: on the 2-core KVM machines of this project a fault costs
microseconds, and a training iteration that makes a few such tensors loses milliseconds.
:func:`configure_process` therefore

* raises glibc's mmap and trim thresholds (``mallopt``), so that freed blocks stay in the
  heap and are reused without faults (what the jemalloc / tcmalloc settings of PyTorch's
  CPU performance guide achieve, without a preloaded library); the process keeps its
  peak memory until it ends;
* turns glibc's fastbins off (``M_MXFAST`` = 0): each product PyTorch hands to oneDNN
  makes several small allocations, among them 2 KB aligned blocks (seen in gdb), and with
  fastbins in use every such block makes malloc consolidate them first (1-2% of a rate-RNN gradient
  at E = 100, in paired timings on an AMD Zen 5; the tcache still serves small blocks).
  ``NEURODYN_KEEP_FREED_MEMORY=0`` leaves malloc's settings (these two) alone;
* puts large tensors on transparent huge pages, PyTorch's opt-in
  ``THP_MEM_ALLOC_ENABLE=1`` (fewer TLB misses; ``THP_MEM_ALLOC_ENABLE=0`` turns it off).

Library users who want the same call :func:`configure_process` at the start of their
script. Other C libraries than glibc are left as they are.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

_M_MXFAST = 1
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLDS = (1 << 30, 1 << 25)  # blocks below 1 GiB (older glibc: 32 MiB) from the heap
_TRIM_THRESHOLD = (1 << 31) - 1  # free memory at the heap's top is never returned


def configure_process() -> bool:
    """Apply the settings above (before the first large tensor is made); returns whether
    glibc's malloc settings were applied."""
    os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")
    if os.environ.get("NEURODYN_KEEP_FREED_MEMORY", "1") == "0":
        return False
    return tune_glibc_malloc()


def tune_glibc_malloc() -> bool:
    """Raise glibc's ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD`` (freed memory is kept)
    and set ``M_MXFAST`` to 0 (no fastbins); False where the C library is not glibc."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    libc = ctypes.CDLL(name)
    if not hasattr(libc, "mallopt") or not hasattr(libc, "gnu_get_libc_version"):
        return False
    raised = any(libc.mallopt(_M_MMAP_THRESHOLD, value) for value in _MMAP_THRESHOLDS)
    raised = raised and bool(libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
    return raised and bool(libc.mallopt(_M_MXFAST, 0))
