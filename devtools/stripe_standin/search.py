"""A subset of Stripe's search query language: `field:'value'`, `metadata['key']:'value'`, `~` (contains),
`>`/`<`/`>=`/`<=` on numbers, `-` to negate, clauses joined by all-AND or all-OR (Stripe refuses a mix)."""

import re

from .errors import invalid

_CLAUSE = re.compile(
    r"""^(?P<negate>-)?(?:metadata\[(?P<q>['"])(?P<meta>.+?)(?P=q)\]|(?P<field>[a-z_]+))"""
    r"""(?P<op>:|~|>=|<=|>|<)(?:'(?P<single>[^']*)'|"(?P<double>[^"]*)"|(?P<bare>[^\s'"]+))$"""
)


def matcher(query, fields: frozenset[str]):
    """A predicate over stored objects for `query`; `fields` are the top-level fields this resource searches."""
    if not isinstance(query, str) or not query.strip():
        raise invalid("Missing required param: query.", "query", code="parameter_missing")
    parts = re.split(r"\s+(AND|OR)\s+", query.strip())
    joins = set(parts[1::2])
    if len(joins) > 1:
        raise invalid("A search query cannot mix AND and OR.", "query")
    tests = [_clause(text, fields) for text in parts[0::2]]
    if joins == {"OR"}:
        return lambda obj: any(test(obj) for test in tests)
    return lambda obj: all(test(obj) for test in tests)


def _clause(text: str, fields: frozenset[str]):
    found = _CLAUSE.match(text)
    if not found:
        raise invalid(f"Invalid search query clause: {text}", "query")
    wanted = next(v for v in (found["single"], found["double"], found["bare"]) if v is not None)
    meta, field, op = found["meta"], found["field"], found["op"]
    if field is not None and field not in fields:
        raise invalid(f"Field '{field}' is not supported in this search.", "query")

    def value_of(obj):
        value = obj.get("metadata", {}).get(meta) if meta is not None else obj.get(field)
        if isinstance(value, bool):
            return "true" if value else "false"
        return value

    def test(obj) -> bool:
        value = value_of(obj)
        if op == ":":
            result = value is not None and str(value) == wanted
        elif op == "~":
            result = value is not None and wanted.lower() in str(value).lower()
        else:
            result = _compare(value, op, wanted)
        return result != bool(found["negate"])

    return test


def _compare(value, op: str, wanted: str) -> bool:
    try:
        left, right = float(value), float(wanted)
    except (TypeError, ValueError):
        return False
    return {">": left > right, "<": left < right, ">=": left >= right, "<=": left <= right}[op]
