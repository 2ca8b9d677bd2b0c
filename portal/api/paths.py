"""The Web API's paths as the Cryptolens clients send them (`/api//key/BlockKey`, `/api/key/activate`,
`/api//customer/addcustomer/`), made one before routing: no redirect, since urllib does not repeat a POST."""


def normalized(path: str) -> str:
    """`/api/...` in lower case, without doubled or trailing slashes; any other path unchanged."""
    parts = [part for part in path.split("/") if part]
    if not parts or parts[0].lower() != "api":
        return path
    return "/" + "/".join(parts).lower()


class NormalizeApiPaths:
    """WSGI middleware: rewrites PATH_INFO of Web API calls before Flask routes them."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        environ["PATH_INFO"] = normalized(environ.get("PATH_INFO", ""))
        return self.app(environ, start_response)
