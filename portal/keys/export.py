"""A product's keys as CSV: streamed in chunks from a session of the stream's own, each cell safe in a spreadsheet."""

import csv
import io
from collections.abc import Iterator

from sqlalchemy.engine import Engine
from sqlmodel import Session

from portal.keys.query import parse
from portal.keys.search import export_rows

CHUNK_CHARACTERS = 64_000


def csv_safe(value) -> str:
    """A cell's text; one that starts like a formula (which spreadsheet programs would run) is kept text."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not text.lstrip("-").isdigit() else text


def keys_csv(engine: Engine, *, product, query: str = "") -> Iterator[str]:
    """The CSV of the product's keys that match `query`; a malformed query raises QueryError here, before any
    chunk is sent."""
    parse(query)
    return _chunks(engine, product, query)


def _chunks(engine: Engine, product, query: str) -> Iterator[str]:
    # A session of the stream's own, closed when the stream ends or the client goes away.
    with Session(engine) as session:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in export_rows(session, product=product, query=query):
            writer.writerow([csv_safe(value) for value in row])
            if buffer.tell() > CHUNK_CHARACTERS:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()
