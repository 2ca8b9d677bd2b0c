"""Production's shape: gunicorn servers of the production configuration on PostgreSQL, sharing Redis."""

import os
import uuid

import pytest
import redis
import requests

from tests.conftest import TEST_DATABASE
from tests.support.factories import VENDOR_PASSWORD
from tests.support.pages import csrf_in

REDIS_URL = os.environ.get("PORTAL_TEST_REDIS", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"no Redis at {REDIS_URL}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
def shared_redis(redis_url) -> dict:
    """Settings that put a test's rate-limit counts and job queue on the shared Redis, apart from any other run's."""
    run = f"test-{uuid.uuid4().hex}"
    yield {"REDIS_URL": redis_url, "RATELIMIT_KEY_PREFIX": run, "JOBS_QUEUE_NAME": run}
    connection = redis.Redis.from_url(redis_url)
    for key in connection.scan_iter(f"*{run}*"):
        connection.delete(key)


def needs_postgresql():
    return pytest.mark.skipif(TEST_DATABASE == "sqlite", reason="production runs PostgreSQL; SQLite lets one "
                                                                   "writer in at a time")


def vendor_browser(base_url: str, email: str) -> requests.Session:
    """A `requests` session logged in to the vendor dashboard of the server at `base_url`."""
    browser = requests.Session()
    token = csrf_in(browser.get(base_url + "/vendor/login", timeout=30).text)
    response = browser.post(base_url + "/vendor/login", data={"csrf_token": token, "email": email,
                                                              "password": VENDOR_PASSWORD},
                            allow_redirects=False, timeout=30)
    assert response.status_code == 303, response.text
    return browser
