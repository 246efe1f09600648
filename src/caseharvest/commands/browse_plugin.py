"""The Datasette plugin of `caseharvest browse`: a case row links to its page under `serve`.

Loaded by Datasette (through the plugins folder `browse` writes), never by caseharvest itself.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl
from markupsafe import Markup

PLUGIN = "caseharvest-browse"


@hookimpl
def render_cell(value: Any, column: str, table: str | None, datasette: Any) -> Markup | None:
    """``case_search.archived_page`` (``<timestamp>/<url>``) as a link into `serve`."""
    if table != "case_search" or column != "archived_page" or not isinstance(value, str):
        return None
    serve_url = (datasette.plugin_config(PLUGIN) or {}).get("serve_url")
    if not serve_url or not value:
        return None
    # Markup.format escapes its arguments: the URL is another site's text.
    return Markup('<a href="{}">archived page</a>').format(serve_url + value)
