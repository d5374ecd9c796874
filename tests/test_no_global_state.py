"""Importing or using neurodyn changes no process-wide state (design: no global tricks).

Importing every module leaves the environment, the thread count, PyTorch's precision
settings and matplotlib untouched (matplotlib is not even imported, so the user's
backend stays theirs); drawing a figure does not import pyplot; and no source file calls
the functions that would change such state.
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


def test_no_source_file_changes_process_state():
    forbidden = re.compile(
        r"matplotlib\.use\(|import matplotlib\.pyplot|mallopt|set_num_threads\(|"
        r"os\.environ\[[^]]+\]\s*=|os\.environ\.(setdefault|update|pop)\(|noqa: E402"
    )
    hits = [
        f"{path.relative_to(SRC)}:{number}: {line.strip()}"
        for path in SRC.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if forbidden.search(line)
    ]
    assert not hits, hits
