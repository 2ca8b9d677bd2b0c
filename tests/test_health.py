"""`/healthz` for the proxy and the process manager: the database and the job queue, nothing else."""

import pytest
from huey.storage import RedisStorage
from sqlalchemy import create_engine

from portal.jobs import huey


def test_a_healthy_portal_answers_ok_and_nothing_else(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_it_is_never_rate_limited_and_needs_no_csrf(app):
    client = app.test_client()
    assert app.config["RATELIMIT_ENABLED"]
    assert {client.get("/healthz").status_code for _ in range(150)} == {200}
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


@pytest.fixture
def database_down(app):
    engine = app.extensions["db_page_engine"]
    # A server that is not there: nothing listens on port 9 of this machine.
    app.extensions["db_page_engine"] = create_engine("postgresql+psycopg://nobody:secret-word@127.0.0.1:9/none")
    yield
    app.extensions["db_page_engine"].dispose()
    app.extensions["db_page_engine"] = engine


@pytest.fixture
def queue_down():
    storage = huey.storage
    huey.storage = RedisStorage("portal", url="redis://:secret-word@127.0.0.1:9/0")
    yield
    huey.storage = storage


def test_a_database_that_does_not_answer_is_503_naming_only_the_check(client, database_down):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "failed": ["database"]}
    assert b"secret-word" not in response.data and b"127.0.0.1" not in response.data


def test_a_job_queue_that_does_not_answer_is_503_naming_only_the_check(client, queue_down):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "failed": ["jobs"]}
    assert b"secret-word" not in response.data


def test_both_down_names_both(client, database_down, queue_down):
    assert client.get("/healthz").get_json() == {"status": "unavailable", "failed": ["database", "jobs"]}


def test_a_page_while_the_database_is_down_is_a_503_page_that_tells_nothing(vendor_client, database_down):
    response = vendor_client.get("/vendor/customers/")
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "Try again in a moment" in page and "secret-word" not in page and "psycopg" not in page


def test_a_web_api_call_while_the_database_is_down_is_a_503_json_that_tells_nothing(client, database_down):
    response = client.get("/api/key/GetKey?token=some-token&ProductId=1&Key=AAAAA-BBBBB-CCCCC-DDDDD")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    answer = response.get_json()
    assert answer["result"] == 1 and "try again" in answer["message"].lower()
    assert "secret-word" not in response.get_data(as_text=True) and "psycopg" not in answer["message"]
