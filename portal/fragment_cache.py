"""HTML fragments rendered once per content and then reused: the dashboard's license cards, the lists' rows.

A template wraps a macro's call in `{% call cached_fragment(macro, *content) %}…{% endcall %}`, where `content` is
everything that fragment shows: the block is rendered the first time and its HTML served after. What it buys:
the dashboard shows all of a customer's cards and a search 25 rows on every request, and rendering each of them
again was the larger part of those pages' work (bench/RESULTS.md). A changed row or setting is a different key,
so a fragment is never stale; a template reloaded in development is a new macro, so its fragments are rendered
afresh. Bounded, per process, emptied when full.
"""

from flask import request
from markupsafe import Markup

SIZE = 4096
_fragments: dict[tuple, Markup] = {}


def cached_fragment(macro, *content, caller) -> Markup:
    """The HTML of the call block for `macro` and `content` (a list counts as a tuple), rendered once."""
    key = (macro, request.script_root, *(tuple(value) if isinstance(value, list) else value for value in content))
    fragment = _fragments.get(key)
    if fragment is None:
        if len(_fragments) >= SIZE:
            _fragments.clear()
        fragment = _fragments[key] = caller()
    return fragment
