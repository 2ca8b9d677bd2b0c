"""A webhook's follow-up work is its new-license mail, written to `outgoing_mail` in the webhook's transaction:
if the job that sends it is lost (its consumer killed before it ran), the periodic sweep sends it."""

from datetime import timedelta

from sqlmodel import select

from portal import mail
from portal.models import OutgoingMail, utcnow


def test_a_webhooks_mail_whose_job_was_lost_is_sent_by_the_sweep(shop, customer, make, vendor, mailbox,
                                                                 monkeypatch):
    make.account(vendor, customer, email="ada.login@example.test")
    monkeypatch.setattr(mail, "deliver_mail", lambda mail_id: None)  # the job queued, never run
    shop.subscribe(customer=customer)
    shop.settle()
    assert len(shop.keys()) == 1 and mailbox.to("ada.login@example.test") == []
    unsent = shop.db.exec(select(OutgoingMail).where(OutgoingMail.sent_at.is_(None))).all()
    assert [row.recipient for row in unsent] == ["ada.login@example.test"]
    monkeypatch.undo()

    assert mail.resend_unsent_mail() == 0, "a mail just queued is left to its own job for a while"
    assert mail.resend_unsent_mail(now=utcnow() + mail.STALE_AFTER + timedelta(seconds=1)) == 1
    [sent] = mailbox.to("ada.login@example.test")
    assert "license" in sent["Subject"] and shop.key().key not in str(sent)
    assert mail.resend_unsent_mail(now=utcnow() + mail.STALE_AFTER + timedelta(seconds=1)) == 0
