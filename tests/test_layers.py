"""The layers of the README's architecture diagram: what each package may import.

Every ``import`` of a spacead module inside ``src/spacead`` (module level or inside a
function) is checked against the table below, so a change that makes a low layer
depend on a higher one fails here, not in a user's import cycle. Names imported by
string on first use are not imports and are not checked: the detector registry
(``detect/_registry.py``) names the learned detectors of ``baselines`` that way, and
``detect/inpaint/__init__.py`` forwards the names that moved to ``survey`` and
``baselines``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "spacead"

# Package -> the spacead packages it may import (besides the private foundation
# modules _validate, _fileio, _threads, _parallel, _tone, _extras, which import only
# each other). cli and __main__ may import anything.
ALLOWED: dict[str, set[str]] = {
    "metrics": set(),
    "detect": set(),
    "detect.inpaint": {"detect"},
    "scene": set(),
    "render": {"scene"},
    "data": {"scene", "render"},
    "tiles": {"data"},
    "reference": {"scene", "render", "data", "detect"},
    "baselines": {"data", "tiles", "detect", "detect.inpaint"},
    "survey": {"data", "tiles", "detect", "detect.inpaint"},
    "bench": {"data", "detect", "metrics", "reference"},
}
# Known exceptions, each imported inside the one function that needs it.
EXCEPTIONS = {
    # load_station() reads a .blend through Blender's glTF exporter, a render concern.
    ("scene", "render"): "scene/_cad.py",
}
FOUNDATION = {"_validate", "_fileio", "_threads", "_parallel", "_tone", "_extras", "_config"}


def _layer(module: list[str]) -> str:
    """``['spacead', 'detect', 'inpaint', '_model']`` -> ``'detect.inpaint'``."""
    parts = module[1:]
    if not parts:
        return "spacead"
    if parts[0] == "detect" and len(parts) > 1 and parts[1] == "inpaint":
        return "detect.inpaint"
    return parts[0]


def _imports(path: Path) -> list[tuple[list[str], int]]:
    """The spacead modules `path` imports (as name parts) and the line of each."""
    rel = path.relative_to(SRC.parent).with_suffix("")
    module = list(rel.parts)
    package = module if module[-1] == "__init__" else module[:-1]
    package = [p for p in package if p != "__init__"]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = base + (node.module.split(".") if node.module else [])
            else:
                target = (node.module or "").split(".")
            found.append((target, node.lineno))
            for alias in node.names:  # `from .. import bench` imports the module spacead.bench
                sub = SRC.parent.joinpath(*target, alias.name)
                if sub.is_dir() or sub.with_suffix(".py").is_file():
                    found.append(([*target, alias.name], node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name.split("."), node.lineno) for a in node.names]
    return [(t, line) for t, line in found if t and t[0] == "spacead"]


def _violations() -> list[str]:
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        source = _layer(list(rel.parts))
        if source in ("cli", "__main__", "__init__", "spacead"):
            continue
        for target, line in _imports(path):
            layer = _layer(target)
            if layer in (source, "spacead") or (
                layer in FOUNDATION and (source in ALLOWED or source in FOUNDATION)
            ):
                continue
            allowed = FOUNDATION if source in FOUNDATION else ALLOWED.get(source, set())
            exception = EXCEPTIONS.get((source, layer))
            if layer in allowed or (exception and str(path).endswith(exception)):
                continue
            bad.append(f"{path.relative_to(SRC)}:{line}: {source} imports {'.'.join(target)}")
    return bad


def test_every_package_imports_only_the_layers_below_it():
    assert _violations() == []


def test_every_package_has_a_row_in_the_table():
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    assert packages - {"detect"} <= set(ALLOWED) and "detect.inpaint" in ALLOWED


@pytest.mark.parametrize(
    ("source", "text", "expected"),
    [
        ("detect/_mrad.py", "from ..bench import evaluate\n", "detect imports spacead.bench"),
        ("tiles/_io.py", "import spacead.survey\n", "tiles imports spacead.survey"),
        ("detect/_rxd.py", "from .. import bench\n", "detect imports spacead.bench"),
        ("metrics/_pro.py", "from spacead import survey\n", "metrics imports spacead.survey"),
        ("detect/inpaint/_score.py", "from ...survey import _scan\n", "imports spacead.survey"),
    ],
)
def test_a_wrong_way_import_is_caught(tmp_path, monkeypatch, source, text, expected):
    import shutil

    copy = tmp_path / "spacead"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / source).write_text((copy / source).read_text() + text)
    monkeypatch.setattr(__import__(__name__, fromlist=["SRC"]), "SRC", copy)
    assert any(expected in v for v in _violations())
