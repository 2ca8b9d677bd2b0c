"""License keys: creation (single and bulk), the key page, machines, the search language, the expiry sweep."""

from flask import Flask

from portal.keys import sweep  # noqa: F401 - registers the periodic expiry sweep with the job queue
from portal.keys.batches import is_interrupted
from portal.keys.routes import blueprint
from portal.keys.status import LABELS, status_of


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(batch_interrupted=is_interrupted, key_status_of=status_of,
                                 key_status_labels=LABELS)
    app.register_blueprint(blueprint)
