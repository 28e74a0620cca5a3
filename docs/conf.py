"""Sphinx configuration of spacead's documentation site.

Build it (warnings are errors, as in CI) from the repository root::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The gallery's examples (``examples/gallery/plot_*.py``) are executed during the build
and their figures shown; nothing is downloaded: the examples make their own data.
"""

from __future__ import annotations

import importlib
import os
import warnings

import spacead

# -- Project ------------------------------------------------------------------------------

project = "spacead"
author = "spacead contributors"
copyright = "spacead contributors"
version = release = spacead.__version__

# -- General ------------------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.extlinks",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.json",
    "auto_examples/*.md5",
]
# Where a page names a Python object in ``backticks``, look it up (links when it exists).
default_role = "py:obj"
# The page of an object lists it in the right-hand "On this page" menu.
toc_object_entries_show_parents = "hide"

# -- API pages: autosummary, autodoc, numpydoc --------------------------------------------

autosummary_generate = True
autosummary_ignore_module_all = False  # a package's page lists exactly its __all__
autodoc_typehints = "none"  # the numpydoc "Parameters" sections carry the types
autodoc_member_order = "bysource"
autodoc_inherit_docstrings = True

# The packages with an API page (docs/api/index.rst lists the same).
API_PACKAGES = (
    "spacead",
    "spacead.detect",
    "spacead.metrics",
    "spacead.data",
    "spacead.scene",
    "spacead.render",
    "spacead.reference",
    "spacead.bench",
    "spacead.models",
    "spacead.models.inpaint",
    "spacead.models.anomalib",
    "spacead.survey",
    "spacead.tiles",
    "spacead.simulate",
)


def _reexports(packages: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Classes and functions a package re-exports from another package with a page.

    ``{package: {name: full name on its home page}}``: the home of an object is the
    package with a page whose name is the longest prefix of the module defining it.
    A re-export gets a cross-reference on its package's page instead of a second full
    description (which Sphinx would report as a duplicate of the canonical object).
    """
    exports = {p: set(importlib.import_module(p).__all__) for p in packages}
    out: dict[str, dict[str, str]] = {}
    for package in packages:
        module = importlib.import_module(package)
        for name in sorted(exports[package]):
            defined = getattr(getattr(module, name), "__module__", None)
            if not isinstance(defined, str):
                continue
            homes = [
                p
                for p in packages
                if name in exports[p] and (defined == p or defined.startswith(p + "."))
            ]
            home = max(homes, key=len) if homes else package
            if home != package:
                out.setdefault(package, {})[name] = f"{home}.{name}"
    return out


autosummary_context = {"reexports": _reexports(API_PACKAGES)}

numpydoc_show_class_members = False  # autodoc's :members: documents them (no duplicates)
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
# Docstring validation (a failed check is a warning, so an error in CI): the checks that
# catch real mistakes and drift, none of the style nits. GL06: an unknown section (a name
# spelt wrong); GL07: sections out of order; PR02: a documented parameter the signature
# does not have (renamed or removed); PR10: "name: type" without the space numpydoc needs.
numpydoc_validation_checks = {"GL06", "GL07", "PR02", "PR10"}

# ":doi:`10.1109/29.60107`" in a docstring links to the paper.
extlinks = {"doi": ("https://doi.org/%s", "doi:%s")}

# -- Markdown (the user guide and the lab notes) ------------------------------------------

myst_heading_anchors = 3  # "#choosing-mrads-defaults" links to a heading, as on GitHub
myst_enable_extensions = ["colon_fence", "deflist"]

# -- Gallery of executed examples ---------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples/gallery",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # every plot_*.py example is executed
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "doc_module": ("spacead",),
    "backreferences_dir": "api/generated/backreferences",  # used by the home page's minigallery
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "abort_on_example_error": False,  # every failing example is reported, then the build fails
    "only_warn_on_example_error": False,
}

# Examples run inside this process: keep them quiet and offline.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")

# -- HTML ---------------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"spacead {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"index": []}  # the home page is full width
html_static_path = ["_static"]
html_css_files = ["spacead.css"]
html_show_sourcelink = False
html_copy_source = False
