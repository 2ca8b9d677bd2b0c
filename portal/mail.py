"""Outgoing mail: written to the database in the transaction of the change it tells about, sent by a job once
that commits, and by a periodic sweep if the job was lost (huey does not run again a task whose consumer was
killed). Every mail goes out at least once: a consumer killed after the relay took a mail and before it was
marked sent sends it again.

Every mail is in a vendor's name (the sender's display name) and carries its portal's link (but a vendor's
registration's, in the portal's own name, with the dashboard's link); its words are one
text template, `mail/<template>.txt`, which the one layout (`mail/_layout.txt` and `mail/_layout.html`) wraps as
plain text and as HTML, so what every mail looks like (the vendor's brand, the footer) is said in one place.
"""

import json
import re
import smtplib
import ssl
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from pathlib import Path

from flask import current_app, has_request_context, render_template
from huey import crontab
from sqlalchemy import or_
from sqlalchemy.orm import Session
from sqlmodel import select

from portal.brand import brand_of
from portal.jobs import after_commit, app_context, huey, job_session, queue_again
from portal.models import NOTES_MAX, OutgoingMail, utcnow
from portal.urls import absolute_url, url_outside_request

_LINK = re.compile(r"(https?://[^\s<>\"]+)")
# A mail its job took this long ago and did not mark sent: that job died (or the relay failed); the sweep retries.
STALE_AFTER = timedelta(minutes=2)
GIVE_UP_AFTER = timedelta(days=2)


def queue_mail(session: Session, *, to: str, subject: str, template: str, vendor, portal_link: str | None = None,
               **context) -> None:
    """Send `mail/<template>.txt`, in `vendor`'s name, once the session's transaction commits; forget it if it
    rolls back. `portal_link` (the vendor's portal, by default its home page) ends every mail.

    The context is plain values (names, absolute links, tokens): the job renders the mail from them."""
    context |= {"vendor_name": vendor.name, "portal_link": portal_link or portal_home(vendor.slug),
                "brand": _brand(vendor)}
    _queue(session, to=to, subject=subject, template=template, context=context)


def queue_operator_mail(session: Session, *, to: str, subject: str, template: str, dashboard_link: str,
                        **context) -> None:
    """A mail in the portal's own name (MAIL_FROM's display name), about no vendor yet: a vendor's registration.
    It ends with the vendor dashboard's link."""
    context |= {"vendor_name": parseaddr(current_app.config["MAIL_FROM"])[0] or "Licensing portal",
                "portal_link": dashboard_link, "portal_label": "Vendor dashboard", "brand": {}}
    _queue(session, to=to, subject=subject, template=template, context=context)


def _queue(session: Session, *, to: str, subject: str, template: str, context: dict) -> None:
    mail = OutgoingMail(recipient=to, subject=" ".join(subject.split())[:NOTES_MAX], template=template,
                        context=json.dumps(context))
    session.add(mail)
    session.flush()
    mail_id = mail.id
    after_commit(session, lambda: deliver_mail(mail_id))


def portal_home(slug: str) -> str:
    """The vendor's portal as an absolute link, in a request (on its address) or in a job (PORTAL_BASE_URL)."""
    return link_to("dashboard.index", vendor_slug=slug)


def link_to(endpoint: str, **values) -> str:
    """An absolute link for a mail, made in a request (on its address) or in a job or command (PORTAL_BASE_URL)."""
    link = absolute_url if has_request_context() else url_outside_request
    return link(endpoint, **values)


def mail_password_changed(session: Session, *, to: str, vendor, login_of: str, forgot_page: str, **links) -> None:
    """Tell the owner of a login that its password has changed: whoever did not change it learns it at once, and
    where to take the login back."""
    queue_mail(session, to=to, subject=f"Your password for {login_of} was changed", template="password_changed",
               vendor=vendor, login_of=login_of, email=to, forgot_page=forgot_page,
               changed_at=utcnow().strftime("%Y-%m-%d %H:%M UTC"), **links)


def _brand(vendor) -> dict:
    """What a mail shows of the vendor's brand (settings at /vendor/settings/brand), each None when not set; the
    logo is the one the portal serves, at its address of this version."""
    brand = brand_of(vendor, portal_url=lambda: portal_home(vendor.slug))
    return {"accent_color": brand.accent_color, "logo_url": brand.logo_url, "support_email": brand.support_email,
            "support_url": brand.support_url, "site_url": brand.site_url}


def compose(template: str, context: dict) -> tuple[str, str]:
    """The mail's plain text and HTML: its words, in the one layout."""
    body = render_template(f"mail/{template}.txt", **context).strip()
    text = render_template("mail/_layout.txt", body=body, **context)
    html = render_template("mail/_layout.html", paragraphs=paragraphs(body), **context)
    return text, html


def paragraphs(text: str) -> list[list[tuple[str, str]]]:
    """A text mail's paragraphs (split at blank lines, lines joined) as (words, link) pieces, for the HTML layout."""
    found = []
    for block in re.split(r"\n\s*\n", text.strip()):
        joined = " ".join(line.strip() for line in block.splitlines() if line.strip())
        pieces = _LINK.split(joined)
        found.append([("", piece) if n % 2 else (piece, "") for n, piece in enumerate(pieces) if piece])
    return found


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
    return queue_again(lambda session: unsent_mail(session, now=now), deliver_mail)


@huey.periodic_task(crontab(minute="*"))
def sweep_unsent_mail() -> int:
    return resend_unsent_mail()


def _send(to: str, subject: str, template: str, context: dict) -> None:
    with app_context():
        config = current_app.config
        text, html = compose(template, context)
        message = EmailMessage()
        sender = parseaddr(config["MAIL_FROM"])[1]
        message["From"] = Address(display_name=context.get("vendor_name") or parseaddr(config["MAIL_FROM"])[0],
                                  addr_spec=sender)
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(domain="portal.local")
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        if config["MAIL_BACKEND"] == "smtp":
            _send_smtp(config, message)
        else:
            _write_to_outbox(config, message)


def plain_text(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


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
    print(f"--- mail to {message['To']}: {message['Subject']}\n{plain_text(message)}---", flush=True)


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
        messages.append({"to": parsed["To"], "from": parsed["From"], "subject": parsed["Subject"],
                         "body": plain_text(parsed), "sent": sent.strftime("%Y-%m-%d %H:%M:%S UTC")})
    return messages
