import csv
import io

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlmodel import Session

from portal.audit import events_for
from portal.dataobjects import services as dataobjects
from portal.db import get_session
from portal.domain import DomainError, NotFound
from portal.forms import ConfirmForm
from portal.keys import search as keys
from portal.keys.batches import recent_batches
from portal.keys.query import QueryError, parse
from portal.products import services
from portal.products.forms import ProductForm
from portal.rendering import is_htmx, render
from portal.tenancy import vendor_blueprint
from portal.web import client_ip, id_arg

blueprint = vendor_blueprint("products", __name__, "/vendor/products")


def owned_product(product_id: int, *, read_only: bool = False):
    """The vendor's product (404 for any other): an ORM object, or a plain record for pages that only read it."""
    load = services.product_record if read_only else services.get_product
    try:
        return load(get_session(), vendor_id=g.vendor_id, product_id=product_id)
    except NotFound:
        abort(404)


@blueprint.route("/")
def index():
    return render_template("products/index.html", products=services.list_products(get_session(),
                                                                                   vendor_id=g.vendor_id))


@blueprint.route("/new", methods=["GET", "POST"])
def new():
    form = ProductForm()
    if form.validate_on_submit():
        session = get_session()
        product = services.create_product(session, vendor_id=g.vendor_id, actor=current_user.actor, ip=client_ip(),
                                          **form.values())
        session.commit()
        flash(f"Product {product.name} created.", "success")
        return redirect(url_for("products.show", product_id=product.id), code=303)
    return render_template("products/form.html", form=form, product=None), 422 if form.errors else 200


@blueprint.route("/<int:product_id>")
def show(product_id: int):
    session = get_session()
    product = owned_product(product_id, read_only=True)
    query = request.args.get("q", "")[:1000]
    before = id_arg("before")
    error = None
    try:
        page = keys.search_keys(session, product=product, query=query, before=before,
                                limit=current_app.config["PAGE_SIZE"])
    except QueryError as problem:
        page, error = keys.KeyPage(keys=[], customers={}, next_before=None), problem
    context = {"product": product, "page": page, "query": query, "before": before, "error": error}
    if is_htmx():
        # 200 even for a malformed query: htmx 2 swaps no 4xx answer, so the error would never be shown.
        return render("products/show.html", "products/_keys.html", **context)
    batches = recent_batches(session, product_id=product.id)
    return render_template(
        "products/show.html", **context, batches=batches,
        data_objects=dataobjects.list_objects(session, vendor_id=g.vendor_id,
                                              referencer_type=dataobjects.PRODUCT, referencer_id=product.id),
        events=events_for(session, vendor_id=g.vendor_id, subject_type="product", subject_id=product.id, limit=20),
    ), 400 if error else 200


def _csv_safe(value) -> str:
    text = str(value)
    # A cell that starts like a formula is run by spreadsheet programs: keep it text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not text.lstrip("-").isdigit() else text


@blueprint.route("/<int:product_id>/keys.csv")
def export(product_id: int):
    product = owned_product(product_id, read_only=True)
    query = request.args.get("q", "")[:1000]
    try:
        parse(query)
    except QueryError as problem:
        return Response(f"{problem.message}\n", status=400, mimetype="text/plain")
    engine = current_app.extensions["db_read_engine"]

    def generate():
        # A session of the stream's own, closed when the stream ends or the client goes away.
        with Session(engine) as session:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            for row in keys.export_rows(session, product=product, query=query):
                writer.writerow([_csv_safe(value) for value in row])
                if buffer.tell() > 64_000:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()

    filename = f"keys-product-{product.id}.csv"
    return Response(generate(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@blueprint.route("/<int:product_id>/edit", methods=["GET", "POST"])
def edit(product_id: int):
    product = owned_product(product_id)
    form = ProductForm(obj=product)
    if form.validate_on_submit():
        session = get_session()
        services.update_product(session, product=product, actor=current_user.actor, ip=client_ip(), **form.values())
        session.commit()
        flash("Product saved.", "success")
        return redirect(url_for("products.show", product_id=product.id), code=303)
    return render_template("products/form.html", form=form, product=product), 422 if form.errors else 200


@blueprint.route("/<int:product_id>/delete", methods=["GET", "POST"])
def delete(product_id: int):
    session = get_session()
    product = owned_product(product_id)
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
                           keys=services.count_keys(session, product=product))
