"""The home page."""
from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from crm import policy
from crm.audit.models import AuditEvent
from crm.extensions import db

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    """Today's work: what waits on me, what is due, what happened lately."""
    recent = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "contact")
        .where(AuditEvent.actor_id == current_user.id)
        .order_by(AuditEvent.at.desc()).limit(10)).all()
    from crm.home.summary import summary_for
    return render_template("home/index.html", recent=recent, summary=summary_for(current_user))
