"""Template pages: the list with figures, write and edit, archive; the picker on a contact's page
(filling one in for the contact is the DM panel's: conversations.views.use_template)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from crm import policy
from crm.contacts.consent import may_contact
from crm.core.errors import Conflict, ServiceError
from crm.core.forms import apply_service_error, int_or_none
from crm.dm_templates import placeholders, services
from crm.dm_templates.forms import TemplateForm
from crm.dm_templates.models import DMTemplate
from crm.extensions import db, htmx

bp = Blueprint("dm_templates", __name__, url_prefix="/templates")



@bp.app_template_global()
def policy_can_edit_template(template) -> bool:
    return policy.can_edit_template(current_user, template)


@bp.app_template_filter("placeholder_pieces")
def placeholder_pieces(text: str) -> list[tuple[str, bool]]:
    """The template's text in pieces, each with whether it is a {placeholder}."""
    out, pos = [], 0
    for match in placeholders.PATTERN.finditer(text or ""):
        out += [(text[pos:match.start()], False), (match.group(0), True)]
        pos = match.end()
    out.append(((text or "")[pos:], False))
    return out


def _editable(template_id) -> DMTemplate:
    template = db.session.get(DMTemplate, template_id)
    if template is None or not policy.can_edit_template(current_user, template):
        abort(404)
    return template


@bp.get("")
def index():
    """Every template with how often it was sent and how often it got a reply."""
    archived = request.args.get("archived") == "1"
    stmt = select(DMTemplate).where(DMTemplate.archived_at.is_not(None) if archived
                                    else DMTemplate.archived_at.is_(None))
    templates = db.session.scalars(stmt.order_by(DMTemplate.name).limit(500)).all()
    return render_template("dm_templates/index.html", templates=templates, archived=archived,
                           usage=services.usage(t.id for t in templates))


def _form_page(form, template=None):
    return render_template("dm_templates/form.html", form=form, template=template,
                           placeholders=placeholders.PLACEHOLDERS)


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Write a template; unknown placeholders are named in the error."""
    form = TemplateForm()
    if form.validate_on_submit():
        try:
            template = services.create_template(current_user, name=form.name.data,
                                                body=form.body.data, platform=form.platform.data)
        except ServiceError as e:
            db.session.rollback()
            apply_service_error(form, e)
            return _form_page(form)
        flash(f"Template “{template.name}” saved.", "success")
        return redirect(url_for("dm_templates.index"))
    return _form_page(form)


@bp.route("/<int:template_id>/edit", methods=["GET", "POST"])
def edit(template_id):
    """Edit a template (its author or a manager)."""
    template = _editable(template_id)
    form = TemplateForm(obj=template)
    if request.method == "GET":
        form.platform.data = template.platform or ""
        form.version.data = template.version
    if form.validate_on_submit():
        try:
            expected = int_or_none(form.version.data)
            services.update_template(current_user, template, name=form.name.data,
                                     body=form.body.data, platform=form.platform.data,
                                     expected_version=expected)
        except ServiceError as e:
            db.session.rollback()
            if isinstance(e, Conflict):
                db.session.refresh(template)
                form = TemplateForm(obj=template, formdata=None)
                form.platform.data = template.platform or ""
                form.version.data = template.version
            apply_service_error(form, e)
            return _form_page(form, template)
        flash("Template saved.", "success")
        return redirect(url_for("dm_templates.index"))
    return _form_page(form, template)


@bp.post("/<int:template_id>/archive")
def archive(template_id):
    """Archive: no longer offered, figures kept."""
    template = _editable(template_id)
    services.archive_template(current_user, template)
    flash(f"Template “{template.name}” archived.", "success")
    return redirect(url_for("dm_templates.index"))


@bp.post("/<int:template_id>/restore")
def restore(template_id):
    """Offer an archived template again."""
    template = _editable(template_id)
    services.restore_template(current_user, template)
    flash(f"Template “{template.name}” restored.", "success")
    return redirect(url_for("dm_templates.index", archived=1))


# "Use template" on a contact ------------------------------------------------------------
@bp.get("/pick/<int:contact_id>")
def pick(contact_id):
    """The template picker of a contact's page, fetched when "Use a template" is opened."""
    contact = policy.get_contact(current_user, contact_id)
    if not (htmx and not htmx.boosted):
        return redirect(url_for("contacts.show", contact_id=contact.id, templates=1)
                        + "#template-tool")
    permission = may_contact(contact)
    if not permission.allowed:
        return render_template("dm_templates/_pick.html", contact=contact, refusal=(
            f"{permission.reason} Templates cannot be used for them."))
    platform = request.args.get("platform") or None
    return render_template("dm_templates/_pick.html", contact=contact, use=None, chosen=platform,
                           templates=services.active_templates(platform))
