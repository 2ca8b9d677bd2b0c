"""Exit 0 when 127.0.0.1:PORT is free for a development server, 1 when one listens there: `port_free.py PORT`.

It binds as the stand-in and Flask's server bind (SO_REUSEADDR), so a port that a server stopped a moment ago
left in TIME_WAIT counts as free."""

import socket
import sys

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", int(sys.argv[1])))
    except OSError:
        sys.exit(1)
