"""The key search's syntax tree and tokenizer, and the QueryError a malformed query raises."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from portal.domain import DomainError


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
