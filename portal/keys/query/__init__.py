"""The product page's key search language: read (fields, syntax, parser) and translated into SQL (sql)."""

from portal.keys.query.fields import METHODS, VARIABLES
from portal.keys.query.parser import parse
from portal.keys.query.sql import Shape, add_months, condition_of, key_filter, shape_of, today_of
from portal.keys.query.syntax import And, Comparison, Everything, MethodCall, Node, Not, Or, QueryError, Variable

__all__ = [
    "METHODS", "VARIABLES", "And", "Comparison", "Everything", "MethodCall", "Node", "Not", "Or", "QueryError",
    "Shape", "Variable", "add_months", "condition_of", "key_filter", "parse", "shape_of", "today_of",
]
