"""Pages with several forms: when one comes back with an error, the others show what is saved (not the post of the
form that failed, in which their checkboxes were all off), and each posts to its own address."""

import re

from portal.models import LicenseKey, Vendor
from tests.support.pages import post_form


def _checked(page: str, name: str) -> bool:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
    return " checked" in tag


def _action_of_form_with(page: str, name: str) -> str:
    forms = re.findall(r'<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>', page, re.S)
    return next(action for action, body in forms if f'name="{name}"' in body)


def test_a_bad_extend_leaves_the_keys_features_in_its_other_forms(vendor_client, make, vendor, db):
    key = make.key(make.product(vendor), f1=True, f3=True, max_no_of_machines=2, notes="reseller")
    page_url = f"/vendor/keys/{key.id}"
    answer = post_form(vendor_client, f"{page_url}/extend", {"days": ""}, page=page_url)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and 'aria-invalid="true"' in page
    assert _checked(page, "f1") and _checked(page, "f3") and not _checked(page, "f2")
    assert 'value="reseller"' in page and 'name="max_no_of_machines"' in page and 'value="2"' in page
    # Saving the notes from that page keeps the features.
    post_form(vendor_client, f"{page_url}/details", {"notes": "partner", "max_no_of_machines": "2", "f1": "y",
                                                     "f3": "y"}, page=page_url)
    db.expire_all()
    saved = db.get(LicenseKey, key.id)
    assert (saved.notes, saved.f1, saved.f3) == ("partner", True, True)


def test_a_bad_reminder_setting_leaves_the_portal_switches_and_their_own_address(vendor_client, vendor, db):
    stored = db.get(Vendor, vendor.id)
    stored.portal_enabled, stored.signup_enabled, stored.remind_days_before_expiry = True, True, 7
    db.add(stored)
    db.commit()
    answer = post_form(vendor_client, "/vendor/settings/reminders", {"remind_days_before_expiry": "400"},
                       page="/vendor/settings")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "from 0 to 365" in page
    assert _checked(page, "portal_enabled") and _checked(page, "signup_enabled")
    assert _action_of_form_with(page, "portal_enabled") == "/vendor/settings"
    db.expire_all()
    assert db.get(Vendor, vendor.id).remind_days_before_expiry == 7
