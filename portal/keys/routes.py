"""The vendor's key pages: new key, bulk keys and their progress, the key page and its changes, delete."""

import json

from flask import Flask, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from portal.activity.services import history_of
from portal.billing_models import live_subscription_ids
from portal.customer_search import services as customer_search
from portal.dataobjects import features
from portal.dataobjects import services as dataobjects
from portal.db import get_session
from portal.domain import DomainError
from portal.forms import ConfirmForm, commit_or_show, form_status
from portal.keys import (
    batches,
    countdown,
    managed,
    product_settings,
    services,
    sweep,  # noqa: F401 - declares the periodic expiry sweep to the job queue
)
from portal.keys import (
    find as lookup,
)
from portal.keys.batches import is_interrupted
from portal.keys.forms import BulkKeysForm, ChangeCustomerForm, ExtendForm, KeyDetailsForm, NewKeyForm
from portal.keys.managed import block_by_vendor
from portal.keys.standing import STANDINGS, keys_standing
from portal.keys.status import LABELS, status_of
from portal.models import utcnow
from portal.rendering import render
from portal.tenancy import vendor_blueprint
from portal.web import client_ip, id_arg

blueprint = vendor_blueprint("keys", __name__, "/vendor/keys")


def _owned_key(key_id: int):
    return services.get_key(get_session(), vendor_id=g.vendor_id, key_id=key_id)


def _customer(customer_id):
    """The vendor's customer a form names (None for none, or for an id that is not the vendor's)."""
    if not isinstance(customer_id, int):
        return None
    return services.chosen_customer(get_session(), vendor_id=g.vendor_id, customer_id=customer_id)


def _picker(form) -> customer_search.Choices:
    """What the customer picker shows: the chosen customer, or after a refused submit the matches of the typed text
    (a lone match chosen, so submitting again takes it)."""
    chosen = _customer(form.customer_id.data)
    if not form.customer_search.data:
        return customer_search.Choices([chosen] if chosen else [], chosen.id if chosen else None, [])
    return customer_search.picker_choices(get_session(), vendor_id=g.vendor_id, query=form.customer_search.data,
                                          selected=chosen.id if chosen else None)


def _prepare(form: NewKeyForm):
    products = services.products_to_choose(get_session(), vendor_id=g.vendor_id)
    if not products:
        flash("Create a product first: keys belong to a product.", "info")
        return None
    # Each option carries its product's feature names, which portal.js puts on the switches when it is chosen.
    form.product_id.choices = [(p.id, p.name, {"data-feature-names": json.dumps(
        [p.feature_name(n) for n in range(1, 9)])}) for p in products]
    if request.method == "GET":
        form.product_id.data = id_arg("product") or products[0].id
        form.customer_id.data = id_arg("customer")
    chosen = next((p for p in products if p.id == form.product_id.data), products[0])
    form.name_features(chosen)
    return chosen


def _create(form_class, template: str, make):
    form = form_class()
    product = _prepare(form)
    if product is None:
        return redirect(url_for("products.new"), code=303)
    if form.validate_on_submit():
        session = get_session()
        done, target = commit_or_show(session, form, lambda: make(session, product, form))
        if done:
            return redirect(target, code=303)
    return render_template(template, form=form, product=product, picker=_picker(form)), form_status(form)


@blueprint.route("/new", methods=["GET", "POST"])
def new():
    def make(session, product, form):
        key = services.create_key(session, product=product, settings=form.settings(), actor=current_user.actor,
                                  ip=client_ip(), notify=True)
        flash(f"Key {key.key} created (ID {key.key_number}).", "success")
        return url_for("keys.show", key_id=key.id)

    return _create(NewKeyForm, "keys/new.html", make)


@blueprint.route("/bulk", methods=["GET", "POST"])
def bulk():
    def make(session, product, form):
        batch = batches.start_batch(session, product=product, settings=form.settings(), count=form.count.data,
                                    actor=current_user.actor, ip=client_ip())
        # No flash: the batch's page says what it makes, and a "Making…" would stay there beside its "Done".
        return url_for("keys.batch", batch_id=batch.id)

    return _create(BulkKeysForm, "keys/bulk.html", make)


@blueprint.route("/")
def index():
    """Keys are listed by product: here, the lookup by key, and the way to the lists."""
    return render_template("keys/find.html", text="", error=None, found=[], start=True)


@blueprint.route("/<any(active, expiring, blocked):standing>")
def standing(standing: str):
    """The keys of all the vendor's products that the home counts as active, expiring or blocked."""
    now, after = utcnow(), request.args.get("after", "")[:40]
    keys, next_after = keys_standing(get_session(), vendor_id=g.vendor_id, standing=standing, after=after,
                                     limit=current_app.config["PAGE_SIZE"], now=now)
    return render_template("keys/standing.html", standing=standing, standings=STANDINGS, keys=keys, after=after,
                           next_after=next_after, now=now)


@blueprint.route("/find")
def find():
    """The navigation's key lookup: one match opens the key, several are listed, none is said."""
    text = request.args.get("key", "")
    try:
        found = lookup.find_keys(get_session(), vendor_id=g.vendor_id, text=text)
    except DomainError as error:
        return render_template("keys/find.html", text=text, error=error.message, found=[]), 400
    if len(found) == 1:
        return redirect(url_for("keys.show", key_id=found[0].id), code=303)
    return render_template("keys/find.html", text=lookup.normalized(text), error=None, found=found[:lookup.SHOWN],
                           more=len(found) > lookup.SHOWN, now=utcnow())


@blueprint.route("/batches/<int:batch_id>")
def batch(batch_id: int):
    session = get_session()
    found = batches.get_batch(session, vendor_id=g.vendor_id, batch_id=batch_id)
    product = services.key_product(session, vendor_id=g.vendor_id, product_id=found.product_id)
    return render("keys/batch.html", "keys/_batch_progress.html", batch=found, product=product)


@blueprint.route("/batches/<int:batch_id>/resume", methods=["POST"])
def resume(batch_id: int):
    session = get_session()
    try:
        found = batches.get_batch(session, vendor_id=g.vendor_id, batch_id=batch_id)
        if not ConfirmForm().validate_on_submit():
            abort(400)
        batches.resume_batch(session, batch=found, actor=current_user.actor, ip=client_ip())
    except DomainError as error:
        session.rollback()
        flash(error.message, "error")
    else:
        session.commit()
        flash("The job is running again.", "success")
    return redirect(url_for("keys.batch", batch_id=batch_id), code=303)


def _key_page(key, *, status: int = 200, **forms):
    session = get_session()
    product = services.key_product(session, vendor_id=g.vendor_id, product_id=key.product_id)
    # The forms not posted show the key as it is, not the post of another form (formdata=None).
    details = forms.get("details") or KeyDetailsForm(obj=key, formdata=None)
    reassign = forms.get("reassign") or ChangeCustomerForm(formdata=None, customer_id=key.customer_id)
    details.name_features(product)
    objects = dataobjects.list_objects(session, vendor_id=g.vendor_id, referencer_type=dataobjects.KEY,
                                       referencer_id=key.id)
    context = {
        "key": key, "product": product, "customer": _customer(key.customer_id),
        "machines": services.machines_of(session, key_ids=[key.id])[key.id],
        "details": details, "extend": forms.get("extend") or ExtendForm(formdata=None),
        "reassign": reassign, "picker": _picker(reassign),
        "confirm": ConfirmForm(),
        "data_objects": objects,
        "feature_tree": next((features.readable_paths(o.string_value) for o in objects if o.name == features.FEATURES),
                             None),
        "history": history_of(session, vendor_id=g.vendor_id, subject_type="key", subject_id=key.id),
        "subscription": managed.subscription_of(session, vendor_id=g.vendor_id, key_id=key.id),
        "first_activation_only": countdown.counts_down(key) and product_settings.first_activation_only(session, key),
        "extension_unblocks": product_settings.unblocks_when_extended(session, key, 1),
    }
    return render_template("keys/show.html", **context), status


@blueprint.route("/<int:key_id>")
def show(key_id: int):
    return _key_page(_owned_key(key_id))


def _apply(key, form, change, message: str, form_name: str):
    """Validate `form`, run `change`, and come back to the key page with a message or the form's errors."""
    session = get_session()
    if form.validate_on_submit() and commit_or_show(session, form, lambda: change(session, form))[0]:
        flash(message() if callable(message) else message, "success")
        return redirect(url_for("keys.show", key_id=key.id), code=303)
    return _key_page(key, status=422, **{form_name: form})


@blueprint.route("/<int:key_id>/block", methods=["POST"])
def block(key_id: int):
    key = _owned_key(key_id)
    blocked = request.form.get("block") == "1"
    return _apply(key, ConfirmForm(), lambda session, _form: block_by_vendor(
        session, key=key, blocked=blocked, actor=current_user.actor, ip=client_ip()),
        "Key blocked." if blocked else "Key unblocked.", "confirm")


@blueprint.route("/<int:key_id>/extend", methods=["POST"])
def extend(key_id: int):
    key = _owned_key(key_id)
    was_blocked = key.block
    return _apply(key, ExtendForm(), lambda session, form: services.extend_key(
        session, key=key, days=form.days.data, actor=current_user.actor, ip=client_ip()),
        lambda: "Expiry and period changed" + ("; the key is unblocked." if was_blocked and not key.block else "."),
        "extend")


@blueprint.route("/<int:key_id>/customer", methods=["POST"])
def change_customer(key_id: int):
    key = _owned_key(key_id)
    return _apply(key, ChangeCustomerForm(), lambda session, form: services.change_customer(
        session, key=key, customer_id=form.customer_id.data, actor=current_user.actor, ip=client_ip(), notify=True),
        "Customer changed.", "reassign")


@blueprint.route("/<int:key_id>/details", methods=["POST"])
def details(key_id: int):
    key = _owned_key(key_id)
    return _apply(key, KeyDetailsForm(), lambda session, form: services.change_details(
        session, key=key, notes=form.notes.data or "", features=form.features(),
        max_no_of_machines=form.max_no_of_machines.data or 0, trial_activation=form.trial_activation.data,
        actor=current_user.actor, ip=client_ip()), "Key saved.", "details")


@blueprint.route("/<int:key_id>/machines/<int:machine_id>/deactivate", methods=["POST"])
def deactivate(key_id: int, machine_id: int):
    key = _owned_key(key_id)
    return _apply(key, ConfirmForm(), lambda session, _form: services.deactivate_machine(
        session, key=key, machine_id=machine_id, actor=current_user.actor, ip=client_ip()),
        "Machine deactivated.", "confirm")


@blueprint.route("/<int:key_id>/delete", methods=["GET", "POST"])
def delete(key_id: int):
    session = get_session()
    key = _owned_key(key_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        product_id = key.product_id
        try:
            services.delete_key(session, key=key, actor=current_user.actor, ip=client_ip())
        except DomainError as error:
            session.rollback()
            flash(error.message, "error")
            return redirect(url_for("keys.show", key_id=key_id), code=303)
        session.commit()
        flash(f"Key {key.key} deleted.", "success")
        return redirect(url_for("products.show", product_id=product_id), code=303)
    return render_template("keys/delete.html", key=key, form=form,
                           machines=len(services.machines_of(session, key_ids=[key.id])[key.id]),
                           live=live_subscription_ids(session, vendor_id=g.vendor_id, key_id=key.id))


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(batch_interrupted=is_interrupted, key_status_of=status_of,
                                 countdown_can_start=countdown.can_start,
                                 key_status_labels=LABELS)
    app.register_blueprint(blueprint)
