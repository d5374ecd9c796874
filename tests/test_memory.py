"""Process memory settings of the neurodyn command."""

import os
import platform

import pytest

from neurodyn import _memory


def test_the_switch_leaves_malloc_alone(monkeypatch):
    monkeypatch.setenv("NEURODYN_KEEP_FREED_MEMORY", "0")
    monkeypatch.delenv("THP_MEM_ALLOC_ENABLE", raising=False)
    assert _memory.configure_process() is False
    assert os.environ["THP_MEM_ALLOC_ENABLE"] == "1"


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_glibc_thresholds_are_raised():
    assert _memory.tune_glibc_malloc() is True
