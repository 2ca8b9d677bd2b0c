"""The key search's translation into one SQLAlchemy condition: query shapes, bound values, whole UTC days."""

import calendar
import itertools
import operator
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from portal.keys.query.fields import DATE, FIELD_KINDS, FLAG, NULLABLE, NUMBER
from portal.keys.query.parser import parse
from portal.keys.query.syntax import And, Comparison, Everything, MethodCall, Node, Not, Or, Value, Variable
from portal.models import LicenseKey

# Table columns rather than ORM attributes: the product page runs its statement as plain SQL (Core).
_KEY = LicenseKey.__table__.c
COLUMNS = {
    "id": _KEY.key_number, "key": _KEY.key, "created": _KEY.created, "expires": _KEY.expires,
    "period": _KEY.period, "notes": _KEY.notes, "block": _KEY.block, "customer": _KEY.customer_id,
    "trial": _KEY.trial_activation, **{f"f{n}": _KEY[f"f{n}"] for n in range(1, 9)},
    "batch": _KEY.batch_id,
}

# A query is translated in two steps so that the product page can reuse one SQL statement for every query of
# the same shape (building and caching a statement costs far more than running it): `shape_of` reduces the tree
# to its shape, which is hashable (the fields, operators and kinds of value), and its values (the bind
# parameters q0, q1, ... in the order met); `condition_of` makes the SQL condition of a shape, with bind
# parameters where the values go. Both walk the tree in the same order.
#
# A date without a time of day (`DateTime(y,m,d)` or a variable) stands for that whole UTC day, so
# `created = today` is any time today and `created <= today` is before tomorrow; a `DateTime` with a time of day
# compares exactly. `monthback` and `monthforward` are the same day a month away, clamped to the month's length.
# Every atom of the translation is free of NULL, so `not` selects exactly the keys its operand does not.

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
    if kind == FLAG or (kind in NULLABLE and value is None):
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
        case ("fixed", field, op, None):  # customer = none, batch != none
            return COLUMNS[field].is_(None) if op == "=" else COLUMNS[field].is_not(None)
        case ("fixed", field, op, value):
            return COMPARE[op](COLUMNS[field], value)
        case ("value", field, op) if FIELD_KINDS[field] in NULLABLE:
            return _compare_nullable(COLUMNS[field], op, bind(sa.BigInteger()))
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


def _compare_nullable(column, op: str, value: sa.BindParameter) -> sa.ColumnElement[bool]:
    """A comparison with a key's customer or batch that is false, never NULL, for a key without one."""
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
