"""The product methods: GetProducts, and GetKeys with the product page's search language."""

from sqlmodel import select

from portal.api.answers import key_object, ok, unix
from portal.api.calls import Call, api_method
from portal.api.params import ApiError
from portal.keys.query import QueryError
from portal.keys.search import page_of_keys
from portal.keys.services import machines_of
from portal.models import Customer
from portal.products.services import list_products

PER_PAGE = 100


@api_method("product/GetProducts", group="products", writes=False)
def get_products(call: Call):
    found = [(product, count) for product, count in list_products(call.session, vendor_id=call.vendor_id)
             if call.token.product_id in (None, product.id)]
    return ok(products=[{"id": product.id, "name": product.name, "description": product.description,
                         "created": unix(product.created), "keys": count,
                         "featureDefinitions": [{"Name": product.feature_name(n), "Feature": n}
                                                for n in range(1, 9)]}
                        for product, count in found])


@api_method("product/GetKeys", group="products", writes=False)
def get_keys(call: Call):
    product = call.product()
    params = call.params
    page = params.integer("Page", default=1, minimum=0, maximum=1_000_000) or 1  # .NET's unset Page is 0
    try:
        rows, total = page_of_keys(call.session, product_id=product.id, page=page, per_page=PER_PAGE,
                                   query=params.text("SearchQuery", max_length=1000),
                                   order_by=params.text("OrderBy", default="ID ascending", max_length=100),
                                   now=call.now)
    except QueryError as error:
        which = "OrderBy" if error.message.startswith("Order by") else "SearchQuery"
        raise ApiError(f"The parameter {which} is not valid: {error.message}") from error
    customer_ids = {row.customer_id for row in rows if row.customer_id is not None}
    customers = {c.id: c for c in call.session.exec(select(Customer).where(Customer.id.in_(customer_ids)))}
    machines = machines_of(call.session, key_ids=[row.id for row in rows])
    return ok(licenseKeys=[key_object(row, customer=customers.get(row.customer_id), machines=machines[row.id],
                                      now=call.now) for row in rows],
              returned=len(rows), total=total, pageCount=-(-total // PER_PAGE))
