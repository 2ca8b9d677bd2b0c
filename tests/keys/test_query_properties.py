"""Properties of the key search: random queries from the grammar combine as sets do, and no text breaks it."""

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from portal.keys.query import (
    METHODS,
    VARIABLES,
    And,
    Comparison,
    MethodCall,
    Node,
    Not,
    Or,
    QueryError,
    Variable,
    key_filter,
    parse,
)
from tests.keys.test_query import ALL, KEYS, NOW, searchable_keys

OPERATORS = ("=", "!=", "<", "<=", ">", ">=")
EQUALITY = ("=", "!=")
FLAGS = ("f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "block", "trial")
BOUNDARY_TIMES = sorted({moment.replace(microsecond=0) for row in KEYS.values() for moment in row[1:3]})

SOME = settings(max_examples=150, deadline=None)


@pytest.fixture(scope="module")
def search(database_url):
    with searchable_keys(database_url, slug="key-search-properties") as (search, _customers):
        yield search


# --- Random queries, built as syntax trees ---------------------------------------------------------------------

integers = st.one_of(
    st.sampled_from([-1, 0, 1, 2, 5, 7, 13, 30, 365, 2**31 - 1, 2**31, 2**63 - 1, -(2**63)]),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
)
texts = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=6)  # storable
days = st.one_of(
    st.sampled_from([moment.date() for moment in BOUNDARY_TIMES]),
    st.dates(min_value=date(2014, 1, 1), max_value=date(2031, 1, 1)),
    st.sampled_from([date(1, 1, 1), date(9999, 12, 31)]),
)
instants = st.one_of(
    st.sampled_from(BOUNDARY_TIMES),
    st.datetimes(min_value=datetime(2014, 1, 1), max_value=datetime(2031, 1, 1)).map(
        lambda moment: moment.replace(microsecond=0, tzinfo=UTC)),
)

atoms = st.one_of(
    st.builds(Comparison, st.sampled_from(["id", "period"]), st.sampled_from(OPERATORS), integers),
    st.builds(Comparison, st.just("customer"), st.sampled_from(OPERATORS), st.integers(-1, 6)),
    st.builds(Comparison, st.just("customer"), st.sampled_from(EQUALITY), st.none()),
    st.builds(Comparison, st.just("key"), st.sampled_from(EQUALITY), st.one_of(
        st.sampled_from([row[0] for row in KEYS.values()]), st.from_regex(r"[A-Z]{5}(-[A-Z]{5}){3}", fullmatch=True))),
    st.builds(Comparison, st.just("notes"), st.sampled_from(EQUALITY), st.one_of(
        st.sampled_from([row[5] for row in KEYS.values()]), texts)),
    st.builds(Comparison, st.sampled_from(FLAGS), st.sampled_from(EQUALITY), st.booleans()),
    st.builds(Comparison, st.sampled_from(["created", "expires"]), st.sampled_from(OPERATORS), st.one_of(
        st.sampled_from(VARIABLES).map(Variable), days, instants)),
    st.builds(MethodCall, st.just("key"), st.sampled_from(METHODS), st.one_of(
        st.sampled_from(["ITVBC", "itvbc-a", "DDDDD-E", "%", "_", ""]),
        st.from_regex(r"[A-Za-z-]{0,6}", fullmatch=True))),
    st.builds(MethodCall, st.just("notes"), st.sampled_from(METHODS), st.one_of(
        st.sampled_from(["reseller", "a%b", "a_b", "_", "\\", '"hi"', "ÆRØ", ""]), texts)),
)
conditions = st.recursive(atoms, lambda children: st.one_of(
    st.builds(Not, children),
    st.lists(children, min_size=2, max_size=3).map(lambda operands: And(tuple(operands))),
    st.lists(children, min_size=2, max_size=3).map(lambda operands: Or(tuple(operands))),
), max_leaves=6)


# --- Rendering a tree as text, in one of the spellings the language allows ------------------------------------

@dataclass(frozen=True)
class Spelling:
    upper_case: bool  # ID, AND, TRUE, DATETIME rather than id, and, true, DateTime
    symbols: bool  # &&, ||, ! rather than and, or, not
    aliases: bool  # ==, <> rather than =, !=
    bare_flags: bool  # F1 rather than F1 = true
    spaces: str

    def word(self, word: str) -> str:
        return word.upper() if self.upper_case else word


PLAIN = Spelling(upper_case=False, symbols=False, aliases=False, bare_flags=False, spaces=" ")
spellings = st.builds(Spelling, st.booleans(), st.booleans(), st.booleans(), st.booleans(),
                      st.sampled_from(["", " ", "  ", "\n\t"]))


def render(node: Node, spelling: Spelling) -> str:
    pad = spelling.spaces
    match node:
        case Not(operand):
            return f"{'!' if spelling.symbols else spelling.word('not') + ' '}{pad}{render_operand(operand, spelling)}"
        case And(operands) | Or(operands):
            word = "and" if isinstance(node, And) else "or"
            joiner = {"and": "&&", "or": "||"}[word] if spelling.symbols else f" {spelling.word(word)} "
            return joiner.join(f"{pad}{render_operand(operand, spelling)}{pad}" for operand in operands)
        case MethodCall(field, method, argument):
            return f"{spelling.word(field)}.{method}({pad}{quoted(argument)}{pad})"
        case Comparison(field, "=", True) if field in FLAGS and spelling.bare_flags:
            return spelling.word(field)
        case Comparison(field, operator, value):
            operator = {"=": "==", "!=": "<>"}.get(operator, operator) if spelling.aliases else operator
            return f"{spelling.word(field)}{pad}{operator}{pad}{render_value(value, spelling)}"
    raise AssertionError(node)


def render_operand(node: Node, spelling: Spelling) -> str:
    return f"({render(node, spelling)})" if isinstance(node, And | Or) else render(node, spelling)


def render_value(value, spelling: Spelling) -> str:
    match value:
        case None:
            return spelling.word("none")
        case bool():
            return spelling.word(str(value).lower())
        case int():
            return str(value)
        case str():
            return quoted(value)
        case Variable(name):
            return spelling.word(name)
        case datetime():
            parts = (value.year, value.month, value.day, value.hour, value.minute, value.second)
            return f"{spelling.word('DateTime')}({','.join(map(str, parts))})"
        case date():
            return f"{spelling.word('DateTime')}({value.year},{value.month},{value.day})"
    raise AssertionError(value)


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- The properties ----------------------------------------------------------------------------------------------

@SOME
@given(conditions, spellings)
def test_a_rendered_tree_parses_back_to_itself(condition, spelling):
    text = render(condition, spelling)
    assume(len(text) <= 1000)
    assert parse(text) == condition


@SOME
@given(conditions, conditions)
def test_or_selects_the_union(search, left, right):
    a, b = render(left, PLAIN), render(right, PLAIN)
    assume(len(a) + len(b) < 990)
    assert search(f"({a}) or ({b})") == search(a) | search(b)


@SOME
@given(conditions, conditions)
def test_and_selects_the_intersection(search, left, right):
    a, b = render(left, PLAIN), render(right, PLAIN)
    assume(len(a) + len(b) < 990)
    assert search(f"({a}) and ({b})") == search(a) & search(b)


@SOME
@given(conditions)
def test_not_selects_the_complement_within_the_product(search, condition):
    a = render(condition, PLAIN)
    assume(len(a) < 990)
    assert search(f"not ({a})") == ALL - search(a)


@SOME
@given(st.sampled_from(["id", "period", "customer", "created", "expires"]), st.data())
def test_the_operators_agree_with_each_other(search, field, data):
    value = data.draw(st.one_of(st.sampled_from(VARIABLES).map(Variable), days, instants)
                      if field in ("created", "expires") else integers)
    selected = {op: search(render(Comparison(field, op, value), PLAIN)) for op in OPERATORS}
    # Only a key with a customer is ordered by customer; any key is unequal to a customer it does not have.
    ordered = search("customer != none") if field == "customer" else ALL
    assert selected["<="] == selected["<"] | selected["="]
    assert selected[">="] == selected[">"] | selected["="]
    assert selected["<"] | selected["="] | selected[">"] == ordered
    assert not selected["<"] & selected["="] and not selected["="] & selected[">"]
    assert selected["!="] == ALL - selected["="]


GRAMMAR_PIECES = [
    "id", "Key", "created", "expires", "period", "F1", "f9", "notes", "block", "customer", "trial", "foo", ".",
    "contains", "startswith", "(", ")", "=", "==", "!=", "<>", "<", "<=", ">", ">=", "!", "&&", "||", "and", "or",
    "not", "true", "false", "none", "null", "today", "tomorrow", "monthback", "monthforward", "DateTime", ",",
    "2015", "13", "-1", "0", "99999999999999999999", '"', '"a"', '"\\"', "\\", "'", " ", "ITVBC-GXXNU-GSMTK-NIJBT",
    "ITVBC-GXXNU", "-", "é", "\x00", "\ud800",
]


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), st.lists(st.sampled_from(GRAMMAR_PIECES), max_size=25).map("".join)))
def test_any_text_is_searched_or_refused_with_a_query_error(search, text):
    try:
        parse(text)
    except QueryError as refused:
        assert 0 <= refused.position <= len(text)
        assert refused.message.endswith(f" at character {refused.position + 1}.")
        return
    assert search(text) <= ALL  # the database accepts whatever the parser accepts


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=1500))
def test_key_filter_raises_only_query_errors(text):
    try:
        key_filter(text, now=NOW)
    except QueryError:
        pass
