"""The vendor-wide activity page: every change to the vendor's records, newest first, filtered."""

from flask import Flask, current_app, g, request

from portal.activity import services
from portal.activity.forms import ActivityFilterForm
from portal.activity.words import action_words, actor_words, changes_of, object_words
from portal.db import get_session
from portal.rendering import render
from portal.tenancy import vendor_blueprint
from portal.web import id_arg

blueprint = vendor_blueprint("activity", __name__, "/vendor/activity")


@blueprint.route("/")
def index():
    form = ActivityFilterForm(request.args)
    session = get_session()
    if form.validate():
        page = services.activity(session, vendor_id=g.vendor_id, filters=form.filters(), before=id_arg("before"),
                                 limit=current_app.config["PAGE_SIZE"])
        status = 200
    else:
        page, status = services.ActivityPage(events=[], next_before=None, products={}, labels={}), 400
    args = {name: value for name, value in request.args.items() if value and name != "before"}
    return render("activity/index.html", form=form, page=page, args=args, before=id_arg("before"),
                  actors=services.recent_actors(session, vendor_id=g.vendor_id), status=status)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(audit_action=action_words, audit_actor=actor_words, audit_object=object_words,
                                  audit_changes=changes_of)
    app.register_blueprint(blueprint)
