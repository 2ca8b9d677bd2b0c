"""What a test passes to the app it starts in another process: the test app's own configuration."""

_CARRIED = ("TESTING", "DATABASE_URL", "SECRET_KEY", "MAIL_BACKEND", "SMTP_HOST", "SMTP_PORT", "MAIL_OUTBOX_DIR")


def child_config(app, **extra) -> dict:
    """The settings that make `create_app(config)` in another process the same app as the test's `app`."""
    return {key: app.config[key] for key in _CARRIED} | extra


def _post_all(config: dict, posts: list[dict], barrier, results) -> None:
    """In a child process: the app of `config`, then every post at once (a thread each) once both children are
    ready; the answers' (status, JSON or None) go back through `results`."""
    import threading

    from portal import create_app

    app = create_app(config)
    answers = []

    def post(request: dict) -> None:
        response = app.test_client().post(request["path"], data=request.get("data"),
                                          headers=request.get("headers"))
        answers.append((response.status_code, response.get_json(silent=True)))

    threads = [threading.Thread(target=post, args=(request,)) for request in posts]
    barrier.wait(timeout=60)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    results.put(answers)


def post_at_once(config: dict, posts_per_process: list[list[dict]]) -> list[tuple[int, dict | None]]:
    """POSTs (`{"path", "data", "headers"}`) sent at the same moment from as many app processes as lists given,
    each process sending its list's posts concurrently; every answer's (status, JSON or None)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(len(posts_per_process)), context.Queue()
    processes = [context.Process(target=_post_all, args=(config, posts, barrier, results))
                 for posts in posts_per_process]
    for process in processes:
        process.start()
    answers = [answer for _ in processes for answer in results.get(timeout=120)]
    for process in processes:
        process.join(timeout=30)
    return answers


def _serve(config: dict, requests, answers) -> None:
    """In a child process: the app of `config`, answering each POST from `requests` until None comes."""
    from portal import create_app

    client = create_app(config).test_client()
    for request in iter(requests.get, None):
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
        requests, answers = self._channels[n]
        requests.put({"path": path, "data": data})
        return answers.get(timeout=60)

    def close(self) -> None:
        for (requests, _answers), process in zip(self._channels, self._processes, strict=True):
            requests.put(None)
            process.join(timeout=30)
