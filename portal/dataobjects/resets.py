"""Cryptolens' product configuration `cryptolens_dobjreset`: the int values of data objects on a product's keys set
back on a schedule, e.g. credits that come back every day.

Its text is a list like `[{"Name": "credits", "Freq": 1, "Default": 5}]`: every `Freq` days (UTC), each key of the
product that has a data object `Name` gets `Default` as its int value. A periodic job runs hourly; an entry is due
once in each period of `Freq` days, the periods counted in UTC days from the first day of the calendar (so Freq 7
resets on the same weekday each week, and the first run after the setting is saved resets at once); a day the job
missed is caught up at its next run, once. The product remembers each name's last day (DataObjectReset), claimed
with the reset in one transaction: whatever runs at once, a name resets once per period, even if the setting is
deleted and added again.
"""

import logging
from datetime import date

from huey import crontab
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select, text

from portal.audit import record_change
from portal.dataobjects.services import KEY, PRODUCT, RESETS, Reset, parse_resets
from portal.domain import DomainError
from portal.jobs import huey, in_batches
from portal.models import DataObject, DataObjectReset, LicenseKey, utcnow

log = logging.getLogger(__name__)
# The predicate of the partial index of reserved names (portal/models.py), word for word, as SQLite needs to use it.
RESERVED_NAME = text("substr(data_object.name, 1, 11) = 'cryptolens_'")


def reset_due(session: Session, today: date | None = None) -> int:
    """Set back the data objects of every entry due today; how many entries were reset."""
    day = (today or utcnow().date()).toordinal()
    done = 0
    # The reserved-name condition lets the databases read the small partial index of reserved names, not the table.
    settings = session.exec(select(DataObject).where(RESERVED_NAME, DataObject.referencer_type == PRODUCT,
                                                     DataObject.name == RESETS)).all()
    for setting in settings:
        try:
            resets = parse_resets(setting.string_value)
        except DomainError as error:  # saved before it was checked
            log.warning("product %s: %s is not used: %s", setting.referencer_id, RESETS, error.message)
            continue
        for reset in resets:
            try:
                if _claim(session, setting, reset, day):
                    _set_back(session, setting, reset)
                    session.commit()
                    done += 1
            except Exception:  # one product's failure leaves the others' resets to run (and this one to the next)
                session.rollback()
                log.exception("product %s: resetting %s failed", setting.referencer_id, reset.name)
    return done


def _claim(session: Session, setting: DataObject, reset: Reset, day: int) -> bool:
    """Whether this entry is due today and now marked done for its period (in the caller's transaction)."""
    kept = session.exec(select(DataObjectReset).where(DataObjectReset.product_id == setting.referencer_id,
                                                      DataObjectReset.name == reset.name)).first()
    if kept is None:
        try:
            with session.begin_nested():
                session.add(DataObjectReset(product_id=setting.referencer_id, name=reset.name, last_day=day))
            return True
        except IntegrityError:  # another run claimed it at this moment
            return False
    if kept.last_day // reset.freq >= day // reset.freq:
        return False
    claimed = session.execute(update(DataObjectReset).where(DataObjectReset.id == kept.id,
                                                            DataObjectReset.last_day == kept.last_day)
                              .values(last_day=day))
    return claimed.rowcount == 1


def _set_back(session: Session, setting: DataObject, reset: Reset) -> None:
    keys = select(LicenseKey.id).where(LicenseKey.vendor_id == setting.vendor_id,
                                       LicenseKey.product_id == setting.referencer_id)
    changed = session.execute(update(DataObject).where(
        DataObject.vendor_id == setting.vendor_id, DataObject.referencer_type == KEY,
        DataObject.referencer_id.in_(keys), DataObject.name == reset.name, DataObject.int_value != reset.default)
        .values(int_value=reset.default))
    record_change(session, vendor_id=setting.vendor_id, actor="portal", action="data_objects.reset",
                  subject_type="product", subject_id=setting.referencer_id, before=None,
                  after={"name": reset.name, "int_value": reset.default, "keys": changed.rowcount})


@huey.periodic_task(crontab(minute="23"))
def reset_data_objects() -> int:
    """Hourly: the entries due (an entry is for a day, so an hour late is on time)."""
    return in_batches(reset_due)
