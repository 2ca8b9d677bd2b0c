"""Two processes create keys for one product at the same time: no per-product ID is ever shared."""

import multiprocessing

import pytest
from sqlmodel import func, select

from portal.models import LicenseKey

pytestmark = pytest.mark.processes


def _create(config: dict, product_id: int, count: int, barrier, results) -> None:
    from sqlmodel import Session

    from portal import create_app
    from portal.keys.services import KeySettings, create_key
    from portal.models import Product

    app = create_app(config)
    with app.app_context(), Session(app.extensions["db_engine"]) as session:
        product = session.get(Product, product_id)
        session.commit()  # hold no lock while waiting for the other process
        barrier.wait(timeout=30)
        numbers = []
        for _ in range(count):
            numbers.append(create_key(session, product=product, settings=KeySettings(), actor="race").key_number)
            session.commit()
        results.put(numbers)


def test_concurrent_creations_never_share_an_id(app, make, vendor, db):
    product = make.product(vendor)
    config = {key: app.config[key] for key in ("TESTING", "DATABASE_URL", "SECRET_KEY", "MAIL_BACKEND")}
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    workers = [context.Process(target=_create, args=(config, product.id, 40, barrier, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    numbers = results.get(timeout=90) + results.get(timeout=90)
    for worker in workers:
        worker.join(timeout=30)
    assert sorted(numbers) == list(range(1, 81))
    stored = db.exec(select(func.count(func.distinct(LicenseKey.key_number)))
                     .where(LicenseKey.product_id == product.id)).one()
    assert stored == 80
