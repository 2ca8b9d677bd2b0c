"""Requests sent at once to several app processes: gunicorn servers of the production configuration
(tests/support/gunicorn.py) started from the test app's own configuration."""

import threading

import requests

from tests.support.gunicorn import servers

_CARRIED = ("TESTING", "DATABASE_URL", "SECRET_KEY", "MAIL_BACKEND", "SMTP_HOST", "SMTP_PORT", "MAIL_OUTBOX_DIR")


def child_config(app, **extra) -> dict:
    """The settings that make `create_app(config)` in another process the same app as the test's `app`."""
    return {key: app.config[key] for key in _CARRIED} | extra


def send_at_once(requests_by_server: list[tuple[str, list[dict]]]) -> list[tuple[int, dict | None]]:
    """POSTs (`{"path", "data", "headers"}`, and a `requests.Session` as "session" to send its cookies) each sent
    to its server's base URL, all at the same moment (a thread each); every answer's (status, JSON or None), or
    (0, None) for a connection the server dropped."""
    answers, start = [], threading.Barrier(sum(len(posts) for _url, posts in requests_by_server))

    def post(url: str, request: dict) -> None:
        start.wait(timeout=60)
        try:
            response = request.get("session", requests).post(url + request["path"], data=request.get("data"),
                                                             headers=request.get("headers"), allow_redirects=False,
                                                             timeout=60)
        except requests.ConnectionError:
            answers.append((0, None))
            return
        try:
            body = response.json()
        except ValueError:
            body = None
        answers.append((response.status_code, body))

    threads = [threading.Thread(target=post, args=(url, request))
               for url, posts in requests_by_server for request in posts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def post_at_once(config: dict, posts_per_process: list[list[dict]]) -> list[tuple[int, dict | None]]:
    """POSTs sent at the same moment to as many gunicorn servers of `config` as lists given, each server getting
    its list's posts concurrently; every answer's (status, JSON or None)."""
    with servers(config, count=len(posts_per_process)) as started:
        return send_at_once([(server.url, posts) for server, posts in zip(started, posts_per_process, strict=True)])


def _serve(config: dict, inbox, answers) -> None:
    """In a child process: the app of `config`, answering each POST from `requests` until None comes."""
    from portal import create_app

    client = create_app(config).test_client()
    for request in iter(inbox.get, None):
        response = client.post(request["path"], data=request.get("data"))
        answers.put((response.status_code, response.get_json(silent=True)))


class AppProcesses:
    """App processes that stay up between posts, so that what one process keeps (its caches) lasts from one post
    to the next: `post(n, path, data)` sends a POST to process n and waits for its (status, JSON or None)."""

    def __init__(self, config: dict, count: int = 2):
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self._channels = [(context.Queue(), context.Queue()) for _ in range(count)]
        self._processes = [context.Process(target=_serve, args=(config, *channel), daemon=True)
                           for channel in self._channels]
        for process in self._processes:
            process.start()

    def post(self, n: int, path: str, data: dict) -> tuple[int, dict | None]:
        inbox, answers = self._channels[n]
        inbox.put({"path": path, "data": data})
        return answers.get(timeout=60)

    def close(self) -> None:
        for (inbox, _answers), process in zip(self._channels, self._processes, strict=True):
            inbox.put(None)
            process.join(timeout=30)
