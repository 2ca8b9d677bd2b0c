"""Outgoing mail: queued on the database session, composed and sent by a background job once it commits."""

import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app, render_template
from sqlalchemy.orm import Session

from portal.jobs import after_commit, app_context, huey


def queue_mail(session: Session, *, to: str, subject: str, template: str, **context) -> None:
    """Send `mail/<template>.txt` once the session's transaction commits; forget it if it rolls back.

    The context is plain values (names, absolute links, tokens): the job renders the mail from them."""
    after_commit(session, lambda: deliver_mail(to=to, subject=subject, template=template, context=context))


@huey.task(retries=5, retry_delay=60)
def deliver_mail(to: str, subject: str, template: str, context: dict) -> None:
    with app_context():
        config = current_app.config
        body = render_template(f"mail/{template}.txt", **context)
        message = EmailMessage()
        message["From"] = config["MAIL_FROM"]
        message["To"] = to
        message["Subject"] = " ".join(subject.split())
        message["Message-ID"] = make_msgid(domain="portal.local")
        message.set_content(body)
        if config["MAIL_BACKEND"] == "smtp":
            _send_smtp(config, message)
        else:
            _write_to_outbox(config, message)


def _send_smtp(config, message: EmailMessage) -> None:
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["SMTP_USERNAME"]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        smtp.send_message(message)


def _write_to_outbox(config, message: EmailMessage) -> None:
    outbox = Path(config["MAIL_OUTBOX_DIR"])
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    (outbox / f"{stamp}.eml").write_bytes(bytes(message))
    print(f"--- mail to {message['To']}: {message['Subject']}\n{message.get_content()}---", flush=True)


def outbox_messages(limit: int = 50) -> list[dict]:
    """The development outbox, newest first."""
    from email import policy
    from email.parser import BytesParser

    outbox = Path(current_app.config["MAIL_OUTBOX_DIR"])
    files = sorted(outbox.glob("*.eml"), reverse=True)[:limit] if outbox.exists() else []
    messages = []
    for path in files:
        parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        sent = datetime.strptime(path.stem, "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
        messages.append({"to": parsed["To"], "subject": parsed["Subject"], "body": parsed.get_content(),
                         "sent": sent.strftime("%Y-%m-%d %H:%M:%S UTC")})
    return messages
