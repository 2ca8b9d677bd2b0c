"""The Web API's paths as the Cryptolens clients send them (`/api//key/BlockKey`, `/api/key/activate`,
`/api//customer/addcustomer/`), made one before routing: no redirect, since urllib does not repeat a POST. Made one,
a Web API call goes to the API's own application (portal/api/application.py), any other request to the portal's."""


def api_path(path: str) -> str | None:
    """`path` of a Web API call in lower case, without doubled or trailing slashes; None for any other path."""
    parts = [part for part in path.split("/") if part]
    if not parts or parts[0].lower() != "api":
        return None
    return "/" + "/".join(parts).lower()


class ApiDispatcher:
    """WSGI middleware: a Web API call, its path made one, to `api`; any other request, unchanged, to `portal`."""

    def __init__(self, portal, api):
        self.portal, self.api = portal, api

    def __call__(self, environ, start_response):
        path = api_path(environ.get("PATH_INFO", ""))
        if path is None:
            return self.portal(environ, start_response)
        environ["PATH_INFO"] = path
        return self.api(environ, start_response)
