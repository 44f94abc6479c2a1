"""A sphinx-gallery image scraper for figures made without pyplot.

``sanets.plots`` builds ``matplotlib.figure.Figure`` objects directly and never touches pyplot (so it opens no
window and leaves the backend alone), so sphinx-gallery's own matplotlib scraper, which asks pyplot for its
figures, does not see them. This one saves every such figure an example's code block left in its namespace.
"""

from __future__ import annotations

from typing import Any


def sanets_figures(block: Any, block_vars: dict, gallery_conf: dict, **kwargs: Any) -> str:
    """Save the pyplot-free figures that a code block created, and return their reStructuredText."""
    from matplotlib.figure import Figure
    from sphinx_gallery.scrapers import figure_rst

    seen = block_vars.setdefault("sanets_figures_seen", set())
    paths = []
    for value in list(block_vars["example_globals"].values()):
        # Figures pyplot manages have a manager; the matplotlib scraper saves those.
        if isinstance(value, Figure) and value.canvas.manager is None and id(value) not in seen:
            seen.add(id(value))
            path = next(block_vars["image_path_iterator"])
            value.savefig(path, dpi=110)
            paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"])
