"""The key search's parser: the text of a query to its syntax tree, or a QueryError at the first problem."""

import calendar
import re
from contextlib import contextmanager
from datetime import UTC, date, datetime

from portal.keys.query.fields import (
    CANONICAL_OPERATOR,
    DATE,
    EXPECTED_VALUE,
    FIELD_KINDS,
    FIELD_LIST,
    FLAG,
    METHODS,
    NULLABLE,
    NUMBER,
    ORDERING,
    TEXT,
    VARIABLES,
)
from portal.keys.query.syntax import (
    And,
    Comparison,
    Everything,
    MethodCall,
    Node,
    Not,
    Or,
    QueryError,
    Token,
    Value,
    Variable,
    tokenize,
)

MAX_QUERY_LENGTH = 1000
MAX_NESTING = 50
INTEGER_MIN, INTEGER_MAX = -(2**63), 2**63 - 1


def parse(text: str) -> Node:
    """The syntax tree of a query; raises QueryError, and nothing else, for any text that is not one.

    Examples: `id=2 or id=3`, `key.contains("ITVBC")`, `created >= DateTime(2015,1,1) and not block`,
    `expires < monthforward`, `ITVBC-GXXNU-GSMTK-NIJBT` (a bare key means `key="ITVBC-GXXNU-GSMTK-NIJBT"`).
    """
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(f"The query is longer than {MAX_QUERY_LENGTH:,} characters", MAX_QUERY_LENGTH)
    _refuse_unstorable_characters(text)
    return _Parser(text).parse_query()


def _refuse_unstorable_characters(text: str) -> None:
    # Neither database can hold a NUL or a lone surrogate in a string parameter.
    for position, character in enumerate(text):
        if character == "\x00" or "\ud800" <= character <= "\udfff":
            shown = character.encode("unicode_escape", "backslashreplace").decode("ascii")
            raise QueryError(f'Unexpected character "{shown}"', position)


class _Parser:
    """A recursive-descent parser, one method per rule of the grammar.

    Names and keywords are case-insensitive; whitespace between tokens is ignored.

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
    strings, created and expires dates, the flags true or false. Ordering operators apply to numbers and dates
    only.
    """

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
            part = re.match(r"[A-Za-z-]+", self.text[token.start:]).group(0).strip("-").upper()
            raise QueryError("Expected a key of four groups of five letters, like ABCDE-FGHIJ-KLMNO-PQRST (for part "
                             f'of one, write key.contains("{part}"))', token.start)
        if token.kind == "word" and token.text.isalpha() and token.text.isupper() and len(token.text) <= 5:
            raise QueryError(f'Unknown field "{token.text}"; for keys with these letters, write '
                             f'key.contains("{token.text}")', token.start)
        if token.kind == "word" and token.text.lower() not in ("and", "or", "not"):
            raise QueryError(f'Unknown field "{token.text}"; expected {FIELD_LIST} (a customer\'s keys are on the '
                             "customer's page)", token.start)
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
        if token.kind == "number" and kind in (NUMBER, *NULLABLE):
            return self.parse_integer()
        if token.kind == "string" and kind == TEXT:
            return _unquote(self.advance())
        if token.kind == "key" and kind == TEXT:
            return self.advance().text
        if token.is_word("true", "false") and kind == FLAG:
            return self.advance().text.lower() == "true"
        if token.is_word("none", "null") and kind in NULLABLE:
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


def _unquote(token: Token) -> str:
    return re.sub(r'\\(["\\])', r"\1", token.text[1:-1])


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
