"""The yardstick: a bare Flask "hello" app, served exactly as the portal is (`gunicorn -c gunicorn.conf.py`)."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "Hello, World!"
