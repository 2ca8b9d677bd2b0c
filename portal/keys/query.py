"""The key search on a product page: a small query language parsed and translated into one SQL condition.

Examples: `id=2 or id=3`, `key.contains("ITVBC")`, `created >= DateTime(2015,1,1) and not block`,
`expires < monthforward`, `ITVBC-GXXNU-GSMTK-NIJBT` (a bare key means `key="ITVBC-GXXNU-GSMTK-NIJBT"`).

Grammar (names and keywords case-insensitive, whitespace between tokens ignored):

    query      := [ or_expr ] END
    or_expr    := and_expr { ("or" | "||") and_expr }
    and_expr   := not_expr { ("and" | "&&") not_expr }
    not_expr   := ("not" | "!") not_expr | primary
    primary    := "(" or_expr ")"
                | KEY                                   bare key: key = KEY
                | FIELD "." METHOD "(" STRING ")"       key or notes; contains, startswith
                | FIELD OPERATOR value
                | FLAG_FIELD                            F1..F8, block, trial alone: FIELD = true
    value      := INTEGER | STRING | KEY | "true" | "false" | "none" | "null"
                | "today" | "tomorrow" | "monthback" | "monthforward"
                | "DateTime" "(" INTEGER "," INTEGER "," INTEGER [ "," INTEGER "," INTEGER "," INTEGER ] ")"
    FIELD      := id | key | created | expires | period | F1..F8 | notes | block | customer | trial
    OPERATOR   := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
    INTEGER    := [ "-" ] digits, within 64 bits
    STRING     := '"' { any character but '"' and '\\', or '\\"', or '\\\\' } '"'
    KEY        := five letters, "-", five letters, "-", five letters, "-", five letters

Each field takes one kind of value: id and period whole numbers, customer a number or none, key and notes
strings, created and expires dates, the flags true or false. Ordering operators apply to numbers and dates only.
A date without a time of day (`DateTime(y,m,d)` or a variable) stands for that whole UTC day, so
`created = today` is any time today and `created <= today` is before tomorrow; a `DateTime` with a time of day
compares exactly. `monthback` and `monthforward` are the same day a month away, clamped to the month's length.

Every atom of the translation is free of NULL, so `not` selects exactly the keys its operand does not.
"""

import calendar
import itertools
import operator
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from portal.domain import DomainError
from portal.models import LicenseKey

MAX_QUERY_LENGTH = 1000
MAX_NESTING = 50
INTEGER_MIN, INTEGER_MAX = -(2**63), 2**63 - 1


class QueryError(DomainError):
    """The query is malformed. `position` is the 0-based offset of the problem; the message counts from 1."""

    def __init__(self, problem: str, position: int):
        super().__init__(f"{problem} at character {position + 1}.")
        self.position = position


# --- The syntax tree ------------------------------------------------------------------------------------------


class Node:
    """A condition on a key."""


@dataclass(frozen=True)
class Variable:
    """`today`, `tomorrow`, `monthback` or `monthforward`: a UTC day known only when the query runs."""

    name: str


# What a comparison compares with: a number, a string, true/false, None (no customer), a whole UTC day,
# an exact instant, or a variable day.
Value = int | str | bool | None | date | datetime | Variable


@dataclass(frozen=True)
class Everything(Node):
    """The blank query."""


@dataclass(frozen=True)
class Comparison(Node):
    field: str  # lower-case field name, e.g. "id", "f1"
    operator: str  # one of =, !=, <, <=, >, >=
    value: Value


@dataclass(frozen=True)
class MethodCall(Node):
    field: str  # "key" or "notes"
    method: str  # "contains" or "startswith"
    argument: str


@dataclass(frozen=True)
class Not(Node):
    operand: Node


@dataclass(frozen=True)
class And(Node):
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or(Node):
    operands: tuple[Node, ...]


# --- The fields ------------------------------------------------------------------------------------------------

NUMBER, CUSTOMER, TEXT, DATE, FLAG = "number", "customer", "text", "date", "flag"

FIELD_KINDS = {
    "id": NUMBER, "period": NUMBER, "customer": CUSTOMER, "key": TEXT, "notes": TEXT,
    "created": DATE, "expires": DATE, "block": FLAG, "trial": FLAG,
    **{f"f{n}": FLAG for n in range(1, 9)},
}
# Table columns rather than ORM attributes: the product page runs its statement as plain SQL (Core).
_KEY = LicenseKey.__table__.c
COLUMNS = {
    "id": _KEY.key_number, "key": _KEY.key, "created": _KEY.created, "expires": _KEY.expires,
    "period": _KEY.period, "notes": _KEY.notes, "block": _KEY.block, "customer": _KEY.customer_id,
    "trial": _KEY.trial_activation, **{f"f{n}": _KEY[f"f{n}"] for n in range(1, 9)},
}
FIELD_LIST = "id, key, created, expires, period, F1 to F8, notes, block, customer or trial"
EXPECTED_VALUE = {
    NUMBER: "a whole number",
    CUSTOMER: "a customer number or none",
    TEXT: 'a string in double quotes, like "ABC"',
    DATE: "a date such as DateTime(2015,1,31), DateTime(2015,1,31,12,0,0) or today",
    FLAG: "true or false",
}
METHODS = ("contains", "startswith")
VARIABLES = ("today", "tomorrow", "monthback", "monthforward")
ORDERING = ("<", "<=", ">", ">=")
CANONICAL_OPERATOR = {"==": "=", "<>": "!="}

# --- The tokenizer ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # key, number, word, string, operator, and, or, not, "(", ")", ",", ".", end
    text: str  # as written in the query
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.lower() in words

    def describe(self) -> str:
        if self.kind == "end":
            return "the end of the query"
        if self.kind == "string":
            return f"the string {self.text}" if len(self.text) <= 30 else f"the string {self.text[:27]}...\""
        return f'"{self.text}"' if len(self.text) <= 30 else f'"{self.text[:27]}..."'


_TOKEN_PATTERN = re.compile(r"""
      (?P<space>    [ \t\r\n\f\v]+ )
    | (?P<key>      [A-Za-z]{5}(?:-[A-Za-z]{5}){3}(?![A-Za-z0-9_-]) )
    | (?P<number>   -?[0-9]+ )
    | (?P<word>     [A-Za-z_][A-Za-z0-9_]* )
    | (?P<string>   "(?:[^"\\]|\\.)*" )
    | (?P<operator> == | != | <> | <= | >= | = | < | > )
    | (?P<and>      && )
    | (?P<or>       \|\| )
    | (?P<not>      ! )
    | (?P<punct>    [(),.] )
""", re.VERBOSE | re.DOTALL)


def tokenize(text: str) -> Iterator[Token]:
    """The tokens of `text`, made as the parser asks for them so that the first problem is the one reported."""
    position = 0
    while position < len(text):
        match = _TOKEN_PATTERN.match(text, position)
        if match is None:
            raise _unexpected_character(text, position)
        kind = match.group() if match.lastgroup == "punct" else match.lastgroup
        if kind != "space":
            yield Token(kind, match.group(), position)
        position = match.end()
    yield Token("end", "", len(text))


def _unexpected_character(text: str, position: int) -> QueryError:
    character = text[position]
    if character == '"':
        return QueryError('Unterminated string: expected a closing " for the string starting', position)
    if character == "'":
        return QueryError('Expected a string in double quotes ("...") rather than single quotes', position)
    shown = character if character.isprintable() else character.encode("unicode_escape").decode("ascii")
    return QueryError(f'Unexpected character "{shown}"', position)


def _unquote(token: Token) -> str:
    return re.sub(r'\\(["\\])', r"\1", token.text[1:-1])


# --- The parser ------------------------------------------------------------------------------------------------


def parse(text: str) -> Node:
    """The syntax tree of a query; raises QueryError, and nothing else, for any text that is not one."""
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(f"The query is longer than {MAX_QUERY_LENGTH} characters", MAX_QUERY_LENGTH)
    _refuse_unstorable_characters(text)
    return _Parser(text).parse_query()


def _refuse_unstorable_characters(text: str) -> None:
    # Neither database can hold a NUL or a lone surrogate in a string parameter.
    for position, character in enumerate(text):
        if character == "\x00" or "\ud800" <= character <= "\udfff":
            shown = character.encode("unicode_escape", "backslashreplace").decode("ascii")
            raise QueryError(f'Unexpected character "{shown}"', position)


class _Parser:
    """A recursive-descent parser, one method per rule of the grammar."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.current = next(self.tokens)
        self.depth = 0

    # Moving through the tokens.

    def peek(self) -> Token:
        return self.current

    def advance(self) -> Token:
        token = self.current
        if token.kind != "end":
            self.current = next(self.tokens)
        return token

    def accept(self, kind: str, *words: str) -> Token | None:
        """The next token if it is of `kind` or one of `words` (and, or and not are symbols or words)."""
        token = self.peek()
        if token.kind == kind or (words and token.is_word(*words)):
            return self.advance()
        return None

    def expect(self, kind: str, what: str) -> Token:
        token = self.accept(kind)
        if token is None:
            raise self.error_expected(what)
        return token

    def error_expected(self, what: str) -> QueryError:
        token = self.peek()
        return QueryError(f"Expected {what} but found {token.describe()}", token.start)

    @contextmanager
    def nested(self, opening: Token):
        """Count a "(" or "not", so that a very deep query is refused before it exhausts the stack."""
        if self.depth == MAX_NESTING:
            raise QueryError(f"The query nests more than {MAX_NESTING} levels of parentheses or not", opening.start)
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    # The rules.

    def parse_query(self) -> Node:
        if self.peek().kind == "end":
            return Everything()
        node = self.parse_or()
        if self.peek().kind != "end":
            raise self.error_expected('"and", "or" or the end of the query')
        return node

    def parse_or(self) -> Node:
        operands = [self.parse_and()]
        while self.accept("or", "or"):
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def parse_and(self) -> Node:
        operands = [self.parse_not()]
        while self.accept("and", "and"):
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def parse_not(self) -> Node:
        negation = self.accept("not", "not")
        if negation is None:
            return self.parse_primary()
        with self.nested(negation):
            return Not(self.parse_not())

    def parse_primary(self) -> Node:
        token = self.peek()
        if token.kind == "(":
            return self.parse_parenthesised()
        if token.kind == "key":
            self.advance()
            return Comparison("key", "=", token.text.upper())
        if token.kind == "word" and token.text.lower() in FIELD_KINDS:
            return self.parse_condition_on_field()
        if token.kind == "word" and self.text.startswith("-", token.end):
            raise QueryError("Expected a key of four groups of five letters, like ABCDE-FGHIJ-KLMNO-PQRST",
                             token.start)
        if token.kind == "word" and token.text.lower() not in ("and", "or", "not"):
            raise QueryError(f'Unknown field "{token.text}"; expected {FIELD_LIST}', token.start)
        raise self.error_expected("a condition such as id=2")

    def parse_parenthesised(self) -> Node:
        opening = self.advance()
        with self.nested(opening):
            node = self.parse_or()
        if self.accept(")") is None:
            raise self.error_expected(f'")" to close the "(" at character {opening.start + 1}')
        return node

    def parse_condition_on_field(self) -> Node:
        name = self.advance()
        field = name.text.lower()
        if self.peek().kind == ".":
            return self.parse_method_call(name)
        if self.peek().kind == "operator":
            return self.parse_comparison(name)
        if FIELD_KINDS[field] == FLAG:
            return Comparison(field, "=", True)  # a flag alone, as in "F1 and not block"
        raise self.error_expected(f'a comparison such as =, !=, < or > after "{name.text}"')

    def parse_method_call(self, name: Token) -> Node:
        field = name.text.lower()
        dot = self.advance()
        if FIELD_KINDS[field] != TEXT:
            raise QueryError(f'Only key and notes have methods, not "{name.text}"', dot.start)
        method = self.expect("word", f'a method, contains or startswith, after "{name.text}."')
        if method.text.lower() not in METHODS:
            raise QueryError(f'Unknown method "{method.text}"; expected contains or startswith', method.start)
        call = self.text[name.start:method.end]
        self.expect("(", f'"(" after "{call}"')
        argument = self.expect("string", f'a string in double quotes inside "{call}(...)"')
        self.expect(")", f'")" to close "{call}("')
        return MethodCall(field, method.text.lower(), _unquote(argument))

    def parse_comparison(self, name: Token) -> Node:
        field = name.text.lower()
        kind = FIELD_KINDS[field]
        sign = self.advance()
        op = CANONICAL_OPERATOR.get(sign.text, sign.text)
        if op in ORDERING and kind in (TEXT, FLAG):
            raise QueryError(f'Only = and != compare {name.text}, not "{sign.text}"', sign.start)
        prefix = self.text[name.start:sign.end]
        value = self.parse_value(kind, prefix)
        if field == "key":
            value = value.upper()  # keys are stored in capitals
        if value is None and op in ORDERING:
            raise QueryError(f'Only = and != compare with none, not "{sign.text}"', sign.start)
        return Comparison(field, op, value)

    def parse_value(self, kind: str, prefix: str) -> Value:
        token = self.peek()
        expected = f'{EXPECTED_VALUE[kind]} after "{prefix}"'
        if token.kind == "number" and kind in (NUMBER, CUSTOMER):
            return self.parse_integer()
        if token.kind == "string" and kind == TEXT:
            return _unquote(self.advance())
        if token.kind == "key" and kind == TEXT:
            return self.advance().text
        if token.is_word("true", "false") and kind == FLAG:
            return self.advance().text.lower() == "true"
        if token.is_word("none", "null") and kind == CUSTOMER:
            self.advance()
            return None
        if token.is_word(*VARIABLES) and kind == DATE:
            return Variable(self.advance().text.lower())
        if token.is_word("datetime") and kind == DATE:
            return self.parse_datetime()
        raise self.error_expected(expected)

    def parse_integer(self) -> int:
        token = self.advance()
        number = int(token.text)
        if not INTEGER_MIN <= number <= INTEGER_MAX:
            raise QueryError(f"The number {token.describe()} does not fit in 64 bits", token.start)
        return number

    def parse_datetime(self) -> date | datetime:
        name = self.advance()
        self.expect("(", f'"(" after "{name.text}"')
        numbers = [self.parse_datetime_argument(name)]
        while self.accept(","):
            numbers.append(self.parse_datetime_argument(name))
        closing = self.expect(")", f'"," or ")" in "{name.text}(...)"')
        if len(numbers) not in (3, 6):
            raise QueryError(f"DateTime takes 3 numbers (year, month, day) or 6 (and hour, minute, second), "
                             f"not {len(numbers)}", name.start)
        problem = _invalid_date_problem(numbers)
        if problem:
            raise QueryError(f"{self.text[name.start:closing.end]} is not a valid date: {problem}",
                             name.start)
        if len(numbers) == 3:
            return date(*numbers)
        return datetime(*numbers, tzinfo=UTC)

    def parse_datetime_argument(self, name: Token) -> int:
        if self.peek().kind != "number":
            raise self.error_expected(f'a number in "{name.text}(...)"')
        return self.parse_integer()


_DATE_PARTS = (("year", 1, 9999), ("month", 1, 12), ("day", 1, 31), ("hour", 0, 23), ("minute", 0, 59),
               ("second", 0, 59))


def _invalid_date_problem(numbers: list[int]) -> str | None:
    for number, (part, lowest, highest) in zip(numbers, _DATE_PARTS, strict=False):
        if not lowest <= number <= highest:
            return f"the {part} must be between {lowest} and {highest}"
    year, month, day = numbers[:3]
    days_in_month = calendar.monthrange(year, month)[1]
    if day > days_in_month:
        return f"{calendar.month_name[month]} {year} has {days_in_month} days"
    return None


# --- The translator --------------------------------------------------------------------------------------------
#
# A query is translated in two steps so that the product page can reuse one SQL statement for every query of
# the same shape (building and caching a statement costs far more than running it): `shape_of` reduces the tree
# to its shape, which is hashable (the fields, operators and kinds of value), and its values (the bind
# parameters q0, q1, ... in the order met); `condition_of` makes the SQL condition of a shape, with bind
# parameters where the values go. Both walk the tree in the same order.

COMPARE = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
           ">=": operator.ge}
LIKE_ESCAPE = "/"
Shape = tuple


def key_filter(text: str, *, now: datetime) -> sa.ColumnElement[bool]:
    """One SQL condition on LicenseKey selecting the keys the query describes; `now` fixes today (UTC)."""
    return translate(parse(text), today=today_of(now))


def today_of(now: datetime) -> date:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC).date()


def translate(node: Node, *, today: date) -> sa.ColumnElement[bool]:
    """The SQL condition of a query, its values bound."""
    shape, values = shape_of(node, today=today)
    return condition_of(shape, values)


def shape_of(node: Node, *, today: date) -> tuple[Shape, dict[str, object]]:
    """The query's shape and the values of its bind parameters, days and variables resolved to instants."""
    values: list = []
    shape = _shape(node, today, values)
    return shape, {f"q{n}": value for n, value in enumerate(values)}


def _shape(node: Node, today: date, values: list) -> Shape:
    match node:
        case Everything():
            return ("everything",)
        case Not(operand):
            return ("not", _shape(operand, today, values))
        case And(operands):
            return ("and", *(_shape(operand, today, values) for operand in operands))
        case Or(operands):
            return ("or", *(_shape(operand, today, values) for operand in operands))
        case MethodCall(field, method, argument):
            values.append(_escape_like(argument))
            return ("call", field, method)
        case Comparison(field, op, value):
            return _comparison_shape(field, op, value, today, values)
    raise TypeError(f"not a query node: {node!r}")


def _comparison_shape(field: str, op: str, value: Value, today: date, values: list) -> Shape:
    kind = FIELD_KINDS[field]
    if kind == FLAG or (kind == CUSTOMER and value is None):
        return ("fixed", field, op, value)  # true, false and none are part of the shape, not parameters
    if kind == DATE:
        day = _resolve_day(value, today)
        if isinstance(day, datetime):
            values.append(day)
            return ("instant", field, op)
        start = datetime.combine(day, time(), tzinfo=UTC)
        if day == date.max:  # the day after 9999-12-31 does not exist
            values.append(start)
            return ("last day", field, op)
        values.extend((start, start + timedelta(days=1)))
        return ("day", field, op)
    values.append(value)
    return ("value", field, op)


def _escape_like(text: str) -> str:
    # What SQLAlchemy's autoescape does to a literal: % and _ in the argument match themselves.
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")


def condition_of(shape: Shape, values: dict[str, object] | None = None) -> sa.ColumnElement[bool]:
    """The SQL condition of a shape. Its parameters hold `values` if given, or else are given when it runs."""
    names = (f"q{n}" for n in itertools.count())

    def bind(type_) -> sa.BindParameter:
        name = next(names)
        return sa.bindparam(name, type_=type_) if values is None else sa.bindparam(name, values[name], type_=type_)

    return _condition(shape, bind)


def _condition(shape: Shape, bind) -> sa.ColumnElement[bool]:
    match shape:
        case ("everything",):
            return sa.true()
        case ("not", operand):
            return sa.not_(_condition(operand, bind))
        case ("and", *operands):
            return sa.and_(*(_condition(operand, bind) for operand in operands))
        case ("or", *operands):
            return sa.or_(*(_condition(operand, bind) for operand in operands))
        case ("call", field, method):
            column = COLUMNS[field]
            # Case-insensitive in the database; the argument is escaped (_escape_like).
            if method == "contains":
                return column.icontains(bind(column.type), escape=LIKE_ESCAPE)
            return column.istartswith(bind(column.type), escape=LIKE_ESCAPE)
        case ("fixed", "customer", op, None):
            return COLUMNS["customer"].is_(None) if op == "=" else COLUMNS["customer"].is_not(None)
        case ("fixed", field, op, value):
            return COMPARE[op](COLUMNS[field], value)
        case ("value", "customer", op):
            return _compare_customer(op, bind(sa.BigInteger()))
        case ("value", field, op):
            column = COLUMNS[field]
            # Numbers are bound as BIGINT: PostgreSQL would refuse a number past 32 bits cast to INTEGER.
            return COMPARE[op](column, bind(sa.BigInteger() if FIELD_KINDS[field] == NUMBER else column.type))
        case ("instant", field, op):
            return COMPARE[op](COLUMNS[field], bind(COLUMNS[field].type))
        case ("day", field, op):
            column = COLUMNS[field]
            return _compare_day(column, op, bind(column.type), bind(column.type))
        case ("last day", field, op):
            column = COLUMNS[field]
            return _compare_day(column, op, bind(column.type), None)
    raise TypeError(f"not a query shape: {shape!r}")


def _compare_customer(op: str, value: sa.BindParameter) -> sa.ColumnElement[bool]:
    column = COLUMNS["customer"]
    if op == "!=":
        return sa.or_(column.is_(None), column != value)
    return sa.and_(column.is_not(None), COMPARE[op](column, value))


def _resolve_day(value: Value, today: date) -> date | datetime:
    if not isinstance(value, Variable):
        return value
    return {
        "today": today,
        "tomorrow": today + timedelta(days=1),
        "monthback": add_months(today, -1),
        "monthforward": add_months(today, 1),
    }[value.name]


def add_months(day: date, months: int) -> date:
    """The same day `months` away, clamped to the length of that month (31 March back one month: 29 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _compare_day(column, op: str, start, end) -> sa.ColumnElement[bool]:
    """A comparison with a whole UTC day from `start` to `end` (None: the last day there is)."""
    before_end = sa.true() if end is None else column < end
    from_end = sa.false() if end is None else column >= end
    return {
        "=": sa.and_(column >= start, before_end),
        "!=": sa.or_(column < start, from_end),
        "<": column < start,
        "<=": before_end,
        ">": from_end,
        ">=": column >= start,
    }[op]
