"""Importing or using neurodyn changes no process-wide state (design: no global tricks).

Importing every module leaves the environment, the thread count, PyTorch's precision
settings and matplotlib untouched (matplotlib is not even imported, so the user's
backend stays theirs); drawing a figure does not import pyplot; and no library source
file calls the functions that would change such state. The one exception is the
``neurodyn`` command (``cli.py``): it is the application, which may choose the process's
thread count (design; issue 22: threads follow the CPUs a job owns) and, with
``--deterministic``, PyTorch's deterministic algorithms with ``CUBLAS_WORKSPACE_CONFIG``;
it sets them only while a command runs, so calling ``cli.main`` in a process leaves that
process as it was.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "neurodyn"

PROBE = """
import importlib, json, os, pkgutil, sys
import torch
before = (dict(os.environ), torch.get_num_threads(), torch.get_float32_matmul_precision())
import neurodyn
for module in pkgutil.walk_packages(neurodyn.__path__, "neurodyn."):
    importlib.import_module(module.name)
after = (dict(os.environ), torch.get_num_threads(), torch.get_float32_matmul_precision())
print(json.dumps({"same": before == after, "matplotlib": "matplotlib" in sys.modules}))
"""


def test_importing_every_module_changes_nothing():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"same": True, "matplotlib": False}


def test_figures_do_not_go_through_pyplot(tmp_path):
    code = f"""
import sys
from neurodyn.plotting import figure
fig, ax = figure(size=(2, 2))
ax.plot([0, 1])
fig.savefig({str(tmp_path / "f.png")!r})
print("matplotlib.pyplot" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


FORBIDDEN = re.compile(
    r"matplotlib\.use\(|import matplotlib\.pyplot|mallopt|set_num_threads\(|"
    r"os\.environ\[[^]]+\]\s*=|os\.environ\.(setdefault|update|pop)\(|noqa: E402"
)
THREADS = re.compile(r"set_num_threads\(")
WORKSPACE = re.compile(r"os\.environ[^\n]*CUBLAS_WORKSPACE_CONFIG")  # --deterministic
APPLICATION = SRC / "cli.py"  # the entry point: it alone may set the thread count


def _hits(pattern: re.Pattern, paths) -> list[str]:
    return [
        f"{path.relative_to(SRC)}:{number}: {line.strip()}"
        for path in paths
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]


def test_no_library_source_file_changes_process_state():
    library = [path for path in SRC.rglob("*.py") if path != APPLICATION]
    assert not _hits(FORBIDDEN, library)


def test_the_command_sets_only_the_thread_count_and_only_while_it_runs(tmp_path, capsys):
    other = re.compile(FORBIDDEN.pattern.replace(THREADS.pattern + "|", ""))
    assert other.pattern != FORBIDDEN.pattern
    hits = [hit for hit in _hits(other, [APPLICATION]) if not WORKSPACE.search(hit)]
    assert not hits
    assert _hits(THREADS, [APPLICATION])  # torch's and numba's, in one place
    import torch

    from neurodyn import cli

    before = torch.get_num_threads()
    args = ["run", "steering-emnist", "--out", str(tmp_path / "run"), "--threads", "3"]
    tiny = ["--dataset", "prototypes", "--input-bits", "20", "--train-size", "40"]
    tiny += ["--test-size", "20", "--hidden-size", "10", "--epochs", "1", "--no-progress"]
    assert cli.main(args + tiny) == 0, capsys.readouterr().err
    assert torch.get_num_threads() == before
    marker = json.loads((tmp_path / "run" / "neurodyn-run.json").read_text())
    assert marker["threads"] == [3]
