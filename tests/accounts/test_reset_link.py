"""A used or expired password-reset link: the portal's own page, with the way to a new link."""

from datetime import timedelta

from sqlmodel import select

from portal.accounts import services
from portal.models import AccountToken, utcnow
from tests.support.pages import post_form


def test_a_used_or_expired_reset_link_offers_a_new_one(client, db, vendor, account):
    used = services.issue_token(db, account=account, purpose=services.RESET_PASSWORD)
    expired = services.issue_token(db, account=account, purpose=services.RESET_PASSWORD)
    db.commit()
    reset = f"/Portal/@{vendor.slug}/ResetPassword?token="
    assert post_form(client, reset + used, {"password": "brand-new-password", "confirm": "brand-new-password"}
                     ).status_code == 303
    for row in db.exec(select(AccountToken).where(AccountToken.used_at.is_(None))).all():
        row.expires_at = utcnow() - timedelta(minutes=1)
        db.add(row)
    db.commit()
    for token in (used, expired, "mistyped"):
        response = client.get(reset + token)
        page = response.get_data(as_text=True)
        assert response.status_code == 404
        assert "This link has been used or has expired" in page
        assert f'href="/Portal/@{vendor.slug}/ForgotPassword"' in page and "Send me a new link" in page
        assert vendor.name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in page  # branded
