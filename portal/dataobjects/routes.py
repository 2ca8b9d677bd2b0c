"""The vendor's data object pages: list and add, edit, delete, on the account, a product or a key."""

from flask import Flask, abort, flash, g, redirect, render_template, url_for
from flask_login import current_user

from portal.dataobjects import (
    resets,  # noqa: F401 - declares the periodic reset of data objects to the job queue
    services,
)
from portal.dataobjects.forms import DataObjectForm
from portal.db import get_session
from portal.forms import commit_or_show, form_status
from portal.tenancy import vendor_blueprint
from portal.web import client_ip

blueprint = vendor_blueprint("dataobjects", __name__, "/vendor/data-objects")
_OWNER_NAMES = {referencer_type: name for name, referencer_type in services.OWNER_TYPES.items()}


def _owner(referencer_type: int, referencer_id: int) -> tuple[str, str]:
    """How a data object's pages name its owner ("your account", "product Photo Editor", "key ABCDE-…" or "machine
    laptop-1 on key ABCDE-…") and where its list is (a machine's objects show with its key); 404 for none of the
    vendor's."""
    if referencer_type == services.USER:
        return "your account", url_for("dataobjects.index")
    session = get_session()
    if referencer_type == services.MACHINE:
        found = services.machine_of(session, vendor_id=g.vendor_id, machine_id=referencer_id)
        if found is None:
            abort(404)
        machine, key = found
        return f"machine {machine.mid} on key {key.key}", url_for("keys.show", key_id=key.id)
    owner = services.owner_of(session, vendor_id=g.vendor_id, referencer_type=referencer_type,
                              referencer_id=referencer_id)
    if owner is None:
        abort(404)
    label = f"product {owner.name}" if referencer_type == services.PRODUCT else f"key {owner.key}"
    return label, url_for("dataobjects.owned", owner_type=_OWNER_NAMES[referencer_type], owner_id=referencer_id)


_OWNER_KINDS = {services.USER: "account", services.PRODUCT: "product", services.KEY: "key",
                services.MACHINE: "machine"}


def _list_and_add(referencer_type: int, referencer_id: int, back_url: str = ""):
    session = get_session()
    owner_label, list_url = _owner(referencer_type, referencer_id)
    form = DataObjectForm()
    if form.validate_on_submit() and commit_or_show(session, form, lambda: services.add_object(
            session, vendor_id=g.vendor_id, name=form.name.data, string_value=form.string_value.data,
            int_value=form.int_value.data or 0, referencer_type=referencer_type, referencer_id=referencer_id,
            actor=current_user.actor, ip=client_ip()))[0]:
        flash(f"Data object {form.name.data} added.", "success")
        _say_if_the_name_repeats(session, referencer_type, referencer_id, form.name.data)
        return redirect(list_url, code=303)
    objects = services.list_objects(session, vendor_id=g.vendor_id, referencer_type=referencer_type,
                                    referencer_id=referencer_id)
    page = render_template("dataobjects/index.html", form=form, objects=objects, owner_label=owner_label,
                           add_url=list_url, terms_name=services.TERMS_URL,
                           for_product=referencer_type == services.PRODUCT, owner_kind=_OWNER_KINDS[referencer_type],
                           back_url=back_url)
    return page, form_status(form)


def _say_if_the_name_repeats(session, referencer_type: int, referencer_id: int, name: str) -> None:
    """Two data objects of one name on one owner are allowed, as in Cryptolens, and worth a word."""
    same = sum(o.name == name for o in services.list_objects(
        session, vendor_id=g.vendor_id, referencer_type=referencer_type, referencer_id=referencer_id))
    if same > 1:
        flash(f"There are {same} data objects named {name} here now: software that looks one up by name gets one "
              "of them.", "warning")


@blueprint.route("/", methods=["GET", "POST"])
def index():
    return _list_and_add(services.USER, 0)


@blueprint.route("/<any(product, key):owner_type>/<int:owner_id>", methods=["GET", "POST"])
def owned(owner_type: str, owner_id: int):
    referencer_type = services.OWNER_TYPES[owner_type]
    back = url_for("products.show", product_id=owner_id) if referencer_type == services.PRODUCT else url_for(
        "keys.show", key_id=owner_id)
    return _list_and_add(referencer_type, owner_id, back)


@blueprint.route("/<int:object_id>/edit", methods=["GET", "POST"])
def edit(object_id: int):
    session = get_session()
    data_object = services.get_object(session, vendor_id=g.vendor_id, object_id=object_id)
    kind = data_object.referencer_type
    owner_label, back_url = _owner(kind, data_object.referencer_id)
    form, was_named = DataObjectForm(obj=data_object), data_object.name
    if form.validate_on_submit() and commit_or_show(session, form, lambda: services.update_object(
            session, data_object=data_object, name=form.name.data, string_value=form.string_value.data,
            int_value=form.int_value.data or 0, actor=current_user.actor, ip=client_ip()))[0]:
        flash(f"Data object {data_object.name} saved.", "success")
        if data_object.name != was_named:  # renamed: to a name in use, perhaps
            _say_if_the_name_repeats(session, kind, data_object.referencer_id, data_object.name)
        return redirect(back_url, code=303)
    return render_template("dataobjects/edit.html", form=form, data_object=data_object, back_url=back_url,
                           for_product=kind == services.PRODUCT, owner_kind=_OWNER_KINDS[kind],
                           owner_label=owner_label, terms_name=services.TERMS_URL), form_status(form)


@blueprint.route("/<int:object_id>/delete", methods=["POST"])
def delete(object_id: int):
    session = get_session()
    data_object = services.get_object(session, vendor_id=g.vendor_id, object_id=object_id)
    _label, back = _owner(data_object.referencer_type, data_object.referencer_id)
    services.delete_object(session, data_object=data_object, actor=current_user.actor, ip=client_ip())
    session.commit()
    flash(f"Data object {data_object.name} deleted.", "success")
    return redirect(back, code=303)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
