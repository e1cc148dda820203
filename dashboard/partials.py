"""Whether a request gets a page's named fragment or the whole page: one rule for every app."""

from __future__ import annotations

from typing import Any


def wants_partial(request: Any) -> bool:
    """htmx asked for a fragment. A boosted link or a history restore (the browser's back button after the
    cache was dropped) needs the whole page, as does a request without htmx."""
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.boosted and not htmx.history_restore_request
