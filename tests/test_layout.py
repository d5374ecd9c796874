"""The package's layout rules: small files, and imports that follow the layers.

networks/ know nothing of the rules, training loops, analyses or experiments built on
them; analysis/ does not depend on training/; only experiments/ and the command line
depend on experiments/.
"""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "neurodyn"
FORBIDDEN = {
    "networks": (
        "neurodyn.rules",
        "neurodyn.training",
        "neurodyn.analysis",
        "neurodyn.experiments",
    ),
    "analysis": ("neurodyn.training", "neurodyn.experiments"),
    "rules": ("neurodyn.training", "neurodyn.experiments"),
    "tasks": ("neurodyn.networks", "neurodyn.rules", "neurodyn.training", "neurodyn.experiments"),
    "training": ("neurodyn.experiments",),
}


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_imports_follow_the_layers(layer):
    wrong = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in (SRC / layer).rglob("*.py")
        for name in imports(path)
        if name.startswith(FORBIDDEN[layer])
    ]
    assert not wrong, wrong


def test_no_source_file_is_over_400_lines():
    long = {
        str(path.relative_to(SRC)): n
        for path in SRC.rglob("*.py")
        if (n := len(path.read_text().splitlines())) > 400
    }
    assert not long, long
