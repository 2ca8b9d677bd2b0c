"""A subset of Stripe's search query language: `field:'value'`, `metadata['key']:'value'`, `~` (contains),
`>`/`<`/`>=`/`<=` on numbers, `-` to negate, clauses joined by all-AND or all-OR (Stripe refuses a mix)."""

import re

from .errors import invalid
from .export import search_page
from .params import check_known

_CLAUSE = re.compile(
    r"""\s*(?P<negate>-)?(?:metadata\[(?P<q>['"])(?P<meta>.+?)(?P=q)\]|(?P<field>[a-z_]+))(?P<op>:|~|>=|<=|>|<)"""
    r"""(?:'(?P<single>(?:[^'\\]|\\.)*)'|"(?P<double>(?:[^"\\]|\\.)*)"|(?P<bare>[^\s'"]+))\s*"""
)
_JOIN = re.compile(r"(AND|OR)\s+")


def matcher(query, fields: frozenset[str]):
    """A predicate over stored objects for `query`; `fields` are the top-level fields this resource searches."""
    if not isinstance(query, str) or not query.strip():
        raise invalid("Missing required param: query.", "query", code="parameter_missing")
    tests, joins, position = [], set(), 0
    while True:
        clause = _CLAUSE.match(query, position)
        if clause is None:
            raise invalid(f"Invalid search query at character {position}: {query}", "query")
        tests.append(_clause(clause, fields))
        position = clause.end()
        if position == len(query):
            break
        join = _JOIN.match(query, position)
        if join is None:
            raise invalid(f"Invalid search query at character {position}: {query}", "query")
        joins.add(join[1])
        position = join.end()
    if len(joins) > 1:
        raise invalid("A search query cannot mix AND and OR.", "query")
    if joins == {"OR"}:
        return lambda obj: any(test(obj) for test in tests)
    return lambda obj: all(test(obj) for test in tests)


def _clause(found: re.Match, fields: frozenset[str]):
    quoted = next(v for v in (found["single"], found["double"], found["bare"]) if v is not None)
    wanted = re.sub(r"\\(.)", r"\1", quoted)
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


def search_objects(call, kind: str, fields: frozenset[str]) -> dict:
    """`GET /v1/<kind>s/search`: the account's objects of `kind` (not deleted) that the query matches."""
    check_known(call.params, {"query", "limit", "page"})
    test = matcher(call.params.get("query"), fields)
    found = (o for o in call.account.objects[kind].values() if not o.get("deleted") and test(o))
    return search_page(call.account, found, call.params, f"/v1/{kind}s/search")
