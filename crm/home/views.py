"""The home page."""
from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from crm.audit.models import AuditEvent
from crm.extensions import db
from crm.home.summary import summary_for

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    """Today's work: who waits on me, what is due, what I did lately."""
    recent = db.session.scalars(
        select(AuditEvent).where(AuditEvent.actor_id == current_user.id,
                                 AuditEvent.entity_type == "contact",
                                 AuditEvent.entity_id.is_not(None))
        .order_by(AuditEvent.at.desc()).limit(8)).all()
    return render_template("home/index.html", recent=recent, summary=summary_for(current_user))
