"""Outgoing mail: written to the database in the transaction of the change it tells about, sent by a job once
that commits, and by a periodic sweep if the job was lost (huey does not run again a task whose consumer was
killed). Every mail goes out at least once: a consumer killed after the relay took a mail and before it was
marked sent sends it again."""

import json
import smtplib
import ssl
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app, render_template
from huey import crontab
from sqlalchemy import or_
from sqlalchemy.orm import Session
from sqlmodel import select

from portal.jobs import after_commit, app_context, huey, job_session
from portal.models import NOTES_MAX, OutgoingMail, utcnow

# A mail its job took this long ago and did not mark sent: that job died (or the relay failed); the sweep retries.
STALE_AFTER = timedelta(minutes=2)
GIVE_UP_AFTER = timedelta(days=2)


def queue_mail(session: Session, *, to: str, subject: str, template: str, **context) -> None:
    """Send `mail/<template>.txt` once the session's transaction commits; forget it if it rolls back.

    The context is plain values (names, absolute links, tokens): the job renders the mail from them."""
    mail = OutgoingMail(recipient=to, subject=" ".join(subject.split())[:NOTES_MAX], template=template,
                        context=json.dumps(context))
    session.add(mail)
    session.flush()
    mail_id = mail.id
    after_commit(session, lambda: deliver_mail(mail_id))


def _claim(session: Session, mail_id: int, now: datetime) -> OutgoingMail | None:
    """The unsent mail, marked as taken now, unless another job took it recently."""
    mail = session.exec(select(OutgoingMail).where(
        OutgoingMail.id == mail_id, OutgoingMail.sent_at.is_(None),
        or_(OutgoingMail.claimed_at.is_(None), OutgoingMail.claimed_at < now - STALE_AFTER))
        .with_for_update(skip_locked=True)).first()
    if mail is not None:
        mail.claimed_at, mail.attempts = now, mail.attempts + 1
        session.add(mail)
    return mail


@huey.task()
def deliver_mail(mail_id: int) -> None:
    with job_session() as session:
        mail = _claim(session, mail_id, utcnow())
        session.commit()
        if mail is None:
            return
        _send(mail.recipient, mail.subject, mail.template, json.loads(mail.context))
        # Sent: the links and tokens it carried are not kept.
        mail.sent_at, mail.context = utcnow(), "{}"
        session.add(mail)
        session.commit()


def unsent_mail(session: Session, *, now: datetime | None = None, limit: int = 200) -> list[int]:
    """Up to `limit` mails whose job was lost: never taken, or taken and not sent, for a while. Each is made free
    to take again; the caller commits and sends them."""
    now = now or utcnow()
    stale = now - STALE_AFTER
    mails = session.exec(select(OutgoingMail).where(
        OutgoingMail.sent_at.is_(None), OutgoingMail.created > now - GIVE_UP_AFTER,
        or_(OutgoingMail.claimed_at < stale, OutgoingMail.claimed_at.is_(None) & (OutgoingMail.created < stale)))
        .order_by(OutgoingMail.id).limit(limit).with_for_update(skip_locked=True)).all()
    for mail in mails:
        mail.claimed_at = None
        session.add(mail)
    return [mail.id for mail in mails]


def resend_unsent_mail(now: datetime | None = None) -> int:
    """The mail whose job was lost, queued again (a job each); how many."""
    with job_session() as session:
        found = unsent_mail(session, now=now)
        session.commit()
    for mail_id in found:
        deliver_mail(mail_id)
    return len(found)


@huey.periodic_task(crontab(minute="*"))
def sweep_unsent_mail() -> int:
    return resend_unsent_mail()


def _send(to: str, subject: str, template: str, context: dict) -> None:
    with app_context():
        config = current_app.config
        body = render_template(f"mail/{template}.txt", **context)
        message = EmailMessage()
        message["From"] = config["MAIL_FROM"]
        message["To"] = to
        message["Subject"] = subject
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
