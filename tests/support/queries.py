"""The SQL statements the app sends while a block runs."""

from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def counted_queries(app):
    """Every statement the app's engine sends while the block runs (the test's own session reads elsewhere)."""
    statements: list[str] = []

    def count(_connection, _cursor, statement, _parameters, _context, _executemany):
        statements.append(statement)

    engine = app.extensions["db_engine"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
