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
