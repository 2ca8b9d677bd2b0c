"""The development server's request log (`make run`) names paths, never query strings: a Web API token, a one-time
link's token or a search sent in a query stays out of it, as in production's gunicorn log format."""

import logging
import threading
import urllib.request

from werkzeug.serving import make_server


def test_the_development_servers_log_leaves_queries_out(app, caplog):
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            for path in ("/api/key/Activate?token=WyIxIiwiYWJjZGVmIl0&ProductId=1", "/vendor/login?next=%2Fvendor%2F",
                         "/vendor/reset/sekrit-one-time-token?x=1"):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=10)  # noqa: S310
                except urllib.error.HTTPError:
                    pass
    finally:
        server.shutdown()
        thread.join(10)
    lines = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    assert len(lines) == 3, lines
    assert "GET /api/key/Activate HTTP/1.1" in lines[0] and '"GET /vendor/login HTTP/1.1" 200' in lines[1]
    assert "WyIxIiwiYWJjZGVmIl0" not in "".join(lines) and "next=" not in "".join(lines)
    assert "/vendor/reset/sekrit-one-time-token HTTP/1.1" in lines[2]  # a path is logged as it is


def test_a_request_line_in_colour_keeps_its_codes():
    from portal.security import REQUEST_LINE_WITHOUT_QUERY

    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '"%s" %s %s',
                               ("\x1b[33mGET /x?token=abc HTTP/1.1\x1b[0m", "404", "-"), None)
    REQUEST_LINE_WITHOUT_QUERY.filter(record)
    assert record.getMessage() == '"\x1b[33mGET /x HTTP/1.1\x1b[0m" 404 -'
