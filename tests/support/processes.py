"""What a test passes to the app it starts in another process: the test app's own configuration."""

_CARRIED = ("TESTING", "DATABASE_URL", "SECRET_KEY", "MAIL_BACKEND", "SMTP_HOST", "SMTP_PORT", "MAIL_OUTBOX_DIR")


def child_config(app, **extra) -> dict:
    """The settings that make `create_app(config)` in another process the same app as the test's `app`."""
    return {key: app.config[key] for key in _CARRIED} | extra
