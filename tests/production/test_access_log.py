"""gunicorn's access log, as `gunicorn.conf.py` writes it, keeps no query string: a Web API call may carry its
access token there (GET works as POST does), and a search what was searched for."""

import time

import pytest
import requests

from portal.api import tokens
from tests.support.gunicorn import servers
from tests.support.processes import child_config

pytestmark = [pytest.mark.processes]


def test_a_token_in_the_query_string_is_not_in_the_access_log(app, vendor, db):
    _row, token = tokens.create_token(db, vendor_id=vendor.id, name="logged", actor="test")
    db.commit()
    with servers(child_config(app), count=1) as (server,):
        answer = requests.get(f"{server.url}/api/product/GetProducts?token={token}&Search=secret-words", timeout=30)
        assert answer.status_code == 200 and answer.json()["result"] == 0
        log = server.log.with_suffix(".access")
        deadline = time.monotonic() + 10
        while "/api/product/getproducts" not in (log.read_text() if log.exists() else ""):  # the path normalised
            assert time.monotonic() < deadline, "no access log line"
            time.sleep(0.1)
        line = next(line for line in log.read_text().splitlines() if "/api/product/getproducts" in line)
    assert '"GET /api/product/getproducts HTTP/1.1" 200' in line
    assert token not in line and "secret-words" not in line and "?" not in line.split('"')[1]
