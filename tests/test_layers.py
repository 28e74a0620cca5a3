"""The layers of the README's architecture diagram: what each package may depend on.

A dependency of one spacead module on another is any of:

- an ``import`` or ``from ... import`` statement, wherever it stands: at module level,
  inside a function, or under ``if TYPE_CHECKING:`` (a type-only cycle is still a cycle
  for the reader, and for mypy);
- a relative import (``from .. import bench``, ``from ..render import Sphere``),
  resolved against the importing file's package;
- a string that is a spacead module path, alone or as ``"module:attribute"``: what
  ``importlib.import_module("spacead.survey")``, the detector registry
  (``"spacead.models.inpaint._detector:InpaintParams"``) and forwarding tables in shims name.
  The path is matched against the real modules under ``src/spacead``; prose that
  mentions a module inside a longer message is not a dependency.

Every dependency is checked against ``ALLOWED``; the few that break it are listed in
``EXCEPTIONS``, each for one file and one pair of packages, with the reason and what
removes it. A module name built at run time (an f-string, a concatenation) is not seen.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "spacead"

# The shared foundation: private top-level modules that import only each other. The
# top-level ``spacead/__init__.py`` runs before every package, so it too may import only
# these; ``cli`` and ``__main__`` may import anything.
FOUNDATION = {
    "_validate",
    "_fileio",
    "_threads",
    "_parallel",
    "_tone",
    "_extras",
    "_moved",
    "_labels",
    "_first_run",
    "_limits",
    "_recent",
}
UNCHECKED = {"cli", "__main__"}

# Package -> the spacead packages it may depend on, besides the foundation.
ALLOWED: dict[str, set[str]] = {
    "spacead": set(),  # the top-level __init__.py
    "metrics": set(),
    "detect": set(),
    "detect.inpaint": set(),  # a forwarding shim (see EXCEPTIONS)
    "scene": set(),
    "render": {"scene"},
    "data": {"scene", "render"},
    "simulate": {"scene", "render", "data"},
    "tiles": {"data"},
    "reference": {"scene", "render", "data", "detect"},
    "models": {"detect", "models.inpaint", "models.anomalib"},  # registers the two by name
    "models.inpaint": {"data", "tiles", "detect"},
    "models.anomalib": {"data", "detect"},
    "baselines": set(),  # a forwarding shim (see EXCEPTIONS)
    "survey": {"data", "tiles", "detect", "models.inpaint"},
    "bench": {"data", "simulate", "detect", "metrics", "reference"},
    "ros": {"scene", "render", "data", "detect", "reference"},
}

# (package, package it reaches against the table, file under src/spacead): why, and what
# removes it. A dependency of the same pair from any other file is still a violation.
EXCEPTIONS: dict[tuple[str, str, str], str] = {
    ("data", "simulate", "data/__init__.py"): (
        "_MOVED forwards generate, GenerateConfig, the toy data, ... to 'spacead.simulate' "
        "with a DeprecationWarning for one release after the simulator left data/; goes with "
        "that table"
    ),
    ("tiles", "simulate", "tiles/__init__.py"): (
        "_MOVED forwards make_planetary_frame, plant_objects, ... to 'spacead.simulate' with "
        "a DeprecationWarning for one release; goes with that table"
    ),
    ("scene", "render", "scene/_model_files.py"): (
        "load_model() exports a .blend to glTF through render/_blend_files.py's Blender wrapper "
        "(imported inside _blend_to_glb); goes when that wrapper moves below scene with the "
        "other file readers in the io/ step of the restructure"
    ),
    ("detect.inpaint", "survey", "detect/inpaint/__init__.py"): (
        "_MOVED forwards the old names scan_image, Place, ScanResult, ... to 'spacead.survey' "
        "with a DeprecationWarning; goes with that table"
    ),
    ("detect.inpaint", "models.inpaint", "detect/inpaint/__init__.py"): (
        "_MOVED forwards the network's names (CompletionNet, TrainConfig, ...) and the "
        "detector's to 'spacead.models.inpaint' with a DeprecationWarning since the network "
        "moved to models/inpaint/; goes with that table"
    ),
    ("baselines", "detect", "baselines/__init__.py"): (
        "_MOVED forwards TrainingRecord to 'spacead.detect' with a DeprecationWarning; goes "
        "with that table"
    ),
    ("baselines", "models.inpaint", "baselines/__init__.py"): (
        "_MOVED forwards InpaintDetector, InpaintParams, train_inpaint_detector to "
        "'spacead.models.inpaint' with a DeprecationWarning since the learned detectors moved "
        "to models/; goes with that table"
    ),
    ("baselines", "models.anomalib", "baselines/__init__.py"): (
        "_MOVED forwards AnomalibDetector, AnomalibOptions, train_anomalib, ... to "
        "'spacead.models.anomalib' with a DeprecationWarning since the learned detectors moved "
        "to models/; goes with that table"
    ),
}

# A whole string that names a module, optionally with ":attribute" (the registry's form).
_MODULE_STRING = re.compile(r"spacead(?:\.[A-Za-z_]\w*)+(?::[A-Za-z_][\w.]*)?")


@dataclass(frozen=True)
class Dependency:
    """One module of the package depending on another: `file` names `module`."""

    file: str  # relative to the package root: "detect/_registry.py"
    line: int
    module: str  # "spacead.models.inpaint._detector"
    how: str  # "import" (a statement) or "string" (a module path in a string)

    @property
    def source(self) -> str:
        return layer(["spacead", *Path(self.file).with_suffix("").parts])

    @property
    def target(self) -> str:
        return layer(self.module.split("."))

    def __str__(self) -> str:
        if self.how == "string":
            return f"{self.file}:{self.line}: {self.source} names {self.module} in a string"
        return f"{self.file}:{self.line}: {self.source} imports {self.module}"


def layer(module: list[str]) -> str:
    """The row of `module` in the table (or the foundation module it is).

    ``['spacead', 'detect', 'inpaint', '_x']`` -> ``'detect.inpaint'``,
    ``['spacead', '_validate']`` -> ``'_validate'``, ``['spacead', '__init__']`` -> ``'spacead'``.
    """
    parts = [p for p in module[1:] if p != "__init__"]
    for name in sorted(ALLOWED, key=len, reverse=True):  # detect.inpaint before detect
        if parts[: name.count(".") + 1] == name.split("."):
            return name
    return parts[0] if parts else "spacead"


def _is_module(root: Path, parts: list[str]) -> bool:
    """Whether ``spacead.<parts>`` is a module or package under `root` (the package dir)."""
    if parts[:1] != ["spacead"]:
        return False
    path = root.joinpath(*parts[1:])
    return (path / "__init__.py").is_file() or path.with_suffix(".py").is_file()


def _named_module(root: Path, text: str) -> str | None:
    """The longest real spacead module a string names, or None."""
    if not _MODULE_STRING.fullmatch(text):
        return None
    parts = text.partition(":")[0].split(".")
    while len(parts) > 1 and not _is_module(root, parts):
        parts.pop()
    return ".".join(parts) if len(parts) > 1 else None


def _imported(root: Path, node: ast.Import | ast.ImportFrom, package: list[str]) -> list[str]:
    """The modules an import statement in `package` imports, as dotted names."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:  # from .. import x: level 1 is `package` itself
        if node.level > len(package):
            return []
        base = package[: len(package) - node.level + 1]
        target = base + (node.module.split(".") if node.module else [])
    else:
        target = (node.module or "").split(".")
    # `from .. import bench` imports the module spacead.bench, not a name of spacead;
    # `from ..survey import _scan` is reported once, as spacead.survey._scan
    subs = [[*target, a.name] for a in node.names if _is_module(root, [*target, a.name])]
    found = subs if any(layer(s) == layer(target) for s in subs) else [target, *subs]
    return [".".join(t) for t in found]


def dependencies(root: Path, path: Path) -> list[Dependency]:
    """Every dependency of the module at `path` on another module of the package at `root`."""
    rel = path.relative_to(root)
    module = ["spacead", *rel.with_suffix("").parts]
    package = module[:-1]  # the folder, for __init__.py as for any other module
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for name in _imported(root, node, package):
                found.append(Dependency(rel.as_posix(), node.lineno, name, "import"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            name = _named_module(root, node.value)
            if name:
                found.append(Dependency(rel.as_posix(), node.lineno, name, "string"))
    return sorted((d for d in found if d.module.split(".")[0] == "spacead"), key=lambda d: d.line)


def _allowed(dep: Dependency) -> bool:
    """Whether the table allows `dep`, before exceptions."""
    source, target = dep.source, dep.target
    if source in UNCHECKED or target == source or target in FOUNDATION:
        return True
    if target == "spacead":  # the top-level __init__ imports only the foundation
        return True
    if source in FOUNDATION:
        return False
    return target in ALLOWED.get(source, set())


def breaking(root: Path) -> list[Dependency]:
    """Every dependency under `root` that the table does not allow (exceptions included)."""
    return [
        dep
        for path in sorted(root.rglob("*.py"))
        for dep in dependencies(root, path)
        if not _allowed(dep)
    ]


def violations(root: Path, exceptions: dict[tuple[str, str, str], str] = EXCEPTIONS) -> list[str]:
    """``"file:line: package imports module"`` for each dependency neither allowed nor excepted."""
    return [str(d) for d in breaking(root) if (d.source, d.target, d.file) not in exceptions]


# -- the real package -------------------------------------------------------------------


def test_every_package_depends_only_on_the_layers_below_it():
    assert violations(SRC) == []


def test_every_exception_is_still_needed():  # and so the checker sees each of them
    used = {(d.source, d.target, d.file) for d in breaking(SRC)}
    assert set(EXCEPTIONS) - used == set(), "remove these exceptions: nothing needs them now"


def test_every_exception_has_a_reason():
    assert all(len(reason.split()) >= 8 for reason in EXCEPTIONS.values())


def test_every_package_has_a_row_in_the_table():
    packages = {
        ".".join(p.parent.relative_to(SRC).parts)
        for p in SRC.rglob("__init__.py")
        if p.parent != SRC
    }
    assert packages <= set(ALLOWED) | UNCHECKED


# -- the checker, on small made-up packages shaped like src/spacead -----------------------


def _package(tmp_path: Path, file: str, text: str) -> Path:
    """A skeleton of src/spacead (every package, a few modules) with `file` holding `text`."""
    root = tmp_path / "spacead"
    modules = [f"{n.replace('.', '/')}/__init__.py" for n in ALLOWED if n != "spacead"]
    modules += [f"{n}.py" for n in FOUNDATION]
    modules += ["__init__.py", "cli.py", "detect/_mrad.py", "detect/_types.py"]
    modules += ["baselines/_inpaint.py", "survey/_scan.py", "bench/_evaluate.py"]
    for name in modules:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("")
    (root / file).parent.mkdir(parents=True, exist_ok=True)
    (root / file).write_text(text)
    return root


WRONG_WAY = {
    "function-level import": (
        "detect/_mrad.py",
        "def run():\n    from spacead.bench import evaluate\n",
        "detect/_mrad.py:2: detect imports spacead.bench",
    ),
    "function-level plain import": (
        "metrics/_pro.py",
        "def run():\n    import spacead.survey._scan\n",
        "metrics/_pro.py:2: metrics imports spacead.survey._scan",
    ),
    "TYPE_CHECKING import": (
        "scene/_camera.py",
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from spacead.data import Dataset\n",
        "scene/_camera.py:4: scene imports spacead.data",
    ),
    "string: registry entry": (
        "detect/_registry.py",
        'SPEC = ("mrad", "spacead.bench._evaluate:evaluate")\n',
        "detect/_registry.py:1: detect names spacead.bench._evaluate in a string",
    ),
    "string: import_module": (
        "tiles/_io.py",
        'import importlib\n\nSURVEY = importlib.import_module("spacead.survey")\n',
        "tiles/_io.py:3: tiles names spacead.survey in a string",
    ),
    "string: forwarding table": (
        "detect/inpaint/__init__.py",
        '_MOVED = {\n    "evaluate": "spacead.bench",\n}\n',
        "detect/inpaint/__init__.py:2: detect.inpaint names spacead.bench in a string",
    ),
    "string: a module's attribute": (
        "render/_core.py",
        'TARGET = "spacead.survey.scan_image"\n',
        "render/_core.py:1: render names spacead.survey in a string",
    ),
    "relative: from ..pkg import name": (
        "detect/_rxd.py",
        "from ..bench import evaluate\n",
        "detect/_rxd.py:1: detect imports spacead.bench",
    ),
    "relative: from .. import pkg": (
        "detect/_rxd.py",
        "from .. import bench\n",
        "detect/_rxd.py:1: detect imports spacead.bench",
    ),
    "relative: three levels, from a subpackage": (
        "detect/inpaint/_score.py",
        "from ...survey import _scan\n",
        "detect/inpaint/_score.py:1: detect.inpaint imports spacead.survey._scan",
    ),
    "relative: from an __init__": (
        "metrics/__init__.py",
        "from ..detect import Detection\n",
        "metrics/__init__.py:1: metrics imports spacead.detect",
    ),
    "absolute: from spacead import pkg": (
        "metrics/_pro.py",
        "from spacead import survey\n",
        "metrics/_pro.py:1: metrics imports spacead.survey",
    ),
    "a package into the top-level __init__": (
        "__init__.py",
        "from .bench import evaluate\n",
        "__init__.py:1: spacead imports spacead.bench",
    ),
    "a package into the foundation": (
        "_fileio.py",
        "def read():\n    from .data import read_image\n",
        "_fileio.py:2: _fileio imports spacead.data",
    ),
    "an excepted pair from another file": (
        "scene/_camera.py",
        "def export():\n    from spacead.render._cycles import export_blend_to_gltf\n",
        "scene/_camera.py:2: scene imports spacead.render._cycles",
    ),
    "an excepted string from another file": (
        "detect/_mrad.py",
        'FIT = "spacead.models.inpaint._detector:train_inpaint_detector"\n',
        "detect/_mrad.py:1: detect names spacead.models.inpaint in a string",
    ),
}


@pytest.mark.parametrize(("file", "text", "expected"), WRONG_WAY.values(), ids=WRONG_WAY)
def test_a_wrong_way_dependency_is_caught(tmp_path, file, text, expected):
    assert violations(_package(tmp_path, file, text)) == [expected]


RIGHT_WAY = {
    "relative, same package": ("detect/_mrad.py", "from ._types import Detection\n"),
    "relative, the package itself": ("detect/_mrad.py", "from . import _types\n"),
    "relative, the foundation": ("detect/_mrad.py", "from .._validate import check_image\n"),
    "relative, a layer below": ("bench/_evaluate.py", "from ..metrics import Accumulator\n"),
    "subpackage to a layer below": ("models/inpaint/_score.py", "from ...detect import _types\n"),
    "string, a layer below": ("survey/_scan.py", 'LOG = "spacead.detect"\n'),
    "prose naming a module": (
        "data/_toy.py",
        'MSG = "huge frames are read by spacead.tiles, not here"\n',
    ),
    "a docstring naming a module": ("detect/_mrad.py", '"""See :mod:`spacead.bench`."""\n'),
    "a name that is no module": ("detect/_mrad.py", 'NAME = "spacead.nothing_here"\n'),
    "the cli": ("cli.py", "from .bench import evaluate\nfrom .survey import scan_image\n"),
    "the foundation to itself": ("_fileio.py", "from ._validate import check_path\n"),
}


@pytest.mark.parametrize(("file", "text"), RIGHT_WAY.values(), ids=RIGHT_WAY)
def test_a_right_way_dependency_passes(tmp_path, file, text):
    assert violations(_package(tmp_path, file, text)) == []


def test_an_exception_covers_its_own_file_only(tmp_path):
    text = '_MOVED = {"CompletionNet": "spacead.models.inpaint"}\n'
    root = _package(tmp_path, "detect/inpaint/__init__.py", text)
    assert violations(root) == []
    assert violations(root, exceptions={}) == [
        "detect/inpaint/__init__.py:1: detect.inpaint names spacead.models.inpaint in a string"
    ]
