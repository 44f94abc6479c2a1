"""Sphinx configuration of the sanets documentation (``python -m sphinx -W -b html docs docs/_build/html``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The docs describe this checkout, installed or not.
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # gallery_scrapers
os.environ.setdefault("MPLBACKEND", "Agg")
# The gallery uses the paper's data where it is found: next to the checkout (as in CI) or in $SANETS_DATA.
_SHARED = ROOT.parent / "shared" / "data"
if _SHARED.is_dir():
    os.environ["SANETS_DATA"] = os.pathsep.join(filter(None, [os.environ.get("SANETS_DATA"), str(_SHARED)]))

import sanets

project = "sanets"
author = "sanets developers"
copyright = "2026, sanets developers"
version = release = sanets.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

# _includes: fragments pulled in by ".. include::", not pages of their own.
exclude_patterns = ["_build", "_includes"]
templates_path = ["_templates"]
root_doc = "index"
default_role = "literal"

# API reference: one page per public name, generated from the docstrings.
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# Sections numpydoc checks in every docstring the reference renders; a failed check is a warning, so -W fails.
numpydoc_validation_checks = {"GL05", "GL06", "GL07", "GL09", "GL10", "SS03", "SS04", "PR02", "PR03", "PR05", "PR06", "PR09", "PR10", "RT05", "SA02", "SA03", "SA04"}
numpydoc_validation_exclude = {r"\.__init__$", r"\.forward$"}

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "min_reported_time": 0,
    "show_memory": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "image_scrapers": ("gallery_scrapers.sanets_figures", "matplotlib"),
}

html_theme = "pydata_sphinx_theme"
html_title = f"sanets {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path: list[str] = []
html_show_sourcelink = False
