"""Outgoing mail: queued on the database session, composed and sent by a background job once it commits.

Every mail is in a vendor's name (the sender's display name) and carries its portal's link; its words are one
text template, `mail/<template>.txt`, which the one layout (`mail/_layout.txt` and `mail/_layout.html`) wraps as
plain text and as HTML, so what every mail looks like (the vendor's brand, the footer) is said in one place.
"""

import re
import smtplib
import ssl
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from pathlib import Path

from flask import current_app, has_request_context, render_template
from sqlalchemy.orm import Session

from portal.jobs import after_commit, app_context, huey
from portal.urls import absolute_url, url_outside_request

_LINK = re.compile(r"(https?://[^\s<>\"]+)")


def queue_mail(session: Session, *, to: str, subject: str, template: str, vendor, portal_link: str | None = None,
               **context) -> None:
    """Send `mail/<template>.txt`, in `vendor`'s name, once the session's transaction commits; forget it if it
    rolls back. `portal_link` (the vendor's portal, by default its home page) ends every mail.

    The context is plain values (names, absolute links, tokens): the job renders the mail from them."""
    context |= {"vendor_name": vendor.name, "portal_link": portal_link or portal_home(vendor.slug)}
    after_commit(session, lambda: deliver_mail(to=to, subject=subject, template=template, context=context))


def portal_home(slug: str) -> str:
    """The vendor's portal as an absolute link, in a request (on its address) or in a job (PORTAL_BASE_URL)."""
    link = absolute_url if has_request_context() else url_outside_request
    return link("dashboard.index", vendor_slug=slug)


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


@huey.task(retries=5, retry_delay=60)
def deliver_mail(to: str, subject: str, template: str, context: dict) -> None:
    with app_context():
        config = current_app.config
        text, html = compose(template, context)
        message = EmailMessage()
        sender = parseaddr(config["MAIL_FROM"])[1]
        message["From"] = Address(display_name=context.get("vendor_name") or parseaddr(config["MAIL_FROM"])[0],
                                  addr_spec=sender)
        message["To"] = to
        message["Subject"] = " ".join(subject.split())
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
