"""The vendor's product pages: the list, create, edit, delete, and the product page with its key search."""

from flask import (
    Flask,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from portal.activity.services import history_of
from portal.billing.plans import plans_section, prices_of
from portal.billing_models import live_subscription_ids
from portal.dataobjects import services as dataobjects
from portal.db import get_session
from portal.domain import DomainError
from portal.forms import ConfirmForm, commit_or_show, form_status
from portal.keys import search as key_search
from portal.keys.batches import recent_batches
from portal.keys.export import keys_csv
from portal.keys.query import QueryError
from portal.products import services
from portal.products.forms import ProductForm
from portal.rendering import is_htmx, render
from portal.tenancy import vendor_blueprint
from portal.web import client_ip, id_arg

blueprint = vendor_blueprint("products", __name__, "/vendor/products")


@blueprint.route("/")
def index():
    return render_template("products/index.html", products=services.list_products(get_session(),
                                                                                   vendor_id=g.vendor_id))


@blueprint.route("/new", methods=["GET", "POST"])
def new():
    form = ProductForm()
    if form.validate_on_submit():
        session = get_session()
        done, product = commit_or_show(session, form, lambda: services.create_product(
            session, vendor_id=g.vendor_id, actor=current_user.actor, ip=client_ip(), **form.values()))
        if done:
            flash(f"Product {product.name} created.", "success")
            return redirect(url_for("products.show", product_id=product.id), code=303)
    return render_template("products/form.html", form=form, product=None), form_status(form)


@blueprint.route("/<int:product_id>")
def show(product_id: int):
    session = get_session()
    product = services.product_record(get_session(), vendor_id=g.vendor_id, product_id=product_id)
    query = request.args.get("q", "")[:1000]
    before = id_arg("before")
    error = None
    try:
        page = key_search.search_keys(session, product=product, query=query, before=before,
                                limit=current_app.config["PAGE_SIZE"])
        counts = key_search.key_counts(session, product_id=product.id, query=query)
    except QueryError as problem:
        page, error = key_search.KeyPage(keys=[], customers={}, next_before=None), problem
        counts = (None, None)
    context = {"product": product, "page": page, "query": query, "before": before, "error": error,
               "key_count": counts[0], "match_count": counts[1], "count_cap": key_search.COUNT_CAP}
    if is_htmx():
        # 200 even for a malformed query: htmx 2 swaps no 4xx answer, so the error would never be shown.
        return render("products/show.html", "products/_keys.html", **context)
    batches = recent_batches(session, product_id=product.id)
    return render_template(
        "products/show.html", **context, batches=batches,
        data_objects=dataobjects.list_objects(session, vendor_id=g.vendor_id,
                                              referencer_type=dataobjects.PRODUCT, referencer_id=product.id),
        history=history_of(session, vendor_id=g.vendor_id, subject_type="product", subject_id=product.id),
        **plans_section(session, vendor_id=g.vendor_id, product_id=product.id),
    ), 400 if error else 200


@blueprint.route("/<int:product_id>/keys.csv")
def export(product_id: int):
    product = services.product_record(get_session(), vendor_id=g.vendor_id, product_id=product_id)
    query = request.args.get("q", "")[:1000]
    try:
        chunks = keys_csv(current_app.extensions["db_read_engine"], product=product, query=query)
    except QueryError as problem:
        return Response(f"{problem.message}\n", status=400, mimetype="text/plain")
    filename = f"keys-product-{product.id}.csv"
    return Response(chunks, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@blueprint.route("/<int:product_id>/edit", methods=["GET", "POST"])
def edit(product_id: int):
    product = services.get_product(get_session(), vendor_id=g.vendor_id, product_id=product_id)
    form = ProductForm(obj=product)
    if form.validate_on_submit():
        session = get_session()
        named = product.name
        done, _product = commit_or_show(session, form, lambda: services.update_product(
            session, product=product, actor=current_user.actor, ip=client_ip(), **form.values()))
        if done:
            flash("Product saved.", "success")
            if product.name != named and prices_of(session, vendor_id=g.vendor_id, product_id=product.id):
                flash("Stripe's Checkout, receipts and invoices name your plans by their product in Stripe, which "
                      f"keeps its own name: rename it there too, or customers who subscribe to {product.name} "
                      f"pay for {named}.", "warning")
            return redirect(url_for("products.show", product_id=product.id), code=303)
    return render_template("products/form.html", form=form, product=product), form_status(form)


@blueprint.route("/<int:product_id>/delete", methods=["GET", "POST"])
def delete(product_id: int):
    session = get_session()
    product = services.get_product(get_session(), vendor_id=g.vendor_id, product_id=product_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.delete_product(session, product=product, actor=current_user.actor, ip=client_ip())
        except DomainError as error:
            session.rollback()
            flash(error.message, "error")
            return redirect(url_for("products.show", product_id=product.id), code=303)
        session.commit()
        flash(f"Product {product.name} deleted.", "success")
        return redirect(url_for("products.index"), code=303)
    return render_template("products/delete.html", product=product, form=form,
                           keys=services.count_keys(session, product=product),
                           live=live_subscription_ids(session, vendor_id=g.vendor_id, product_id=product.id),
                           plans=prices_of(session, vendor_id=g.vendor_id, product_id=product.id))


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
