"""/api/v1 campaigns, pipelines with their stages, and users: what the other resources
refer to by id."""
from flask_login import current_user
from sqlalchemy import select

from crm import policy
from crm.accounts.services import active_users
from crm.api import paging
from crm.api.blueprint import bp
from crm.api.schemas import (CampaignArgs, CampaignOut, CampaignPersonIn, DealOut, MeOut,
                             PipelineOut, UserOut, page_of)
from crm.campaigns import services as campaigns
from crm.campaigns.models import Campaign
from crm.extensions import db
from crm.pipeline.board import pipelines


@bp.get("/campaigns/<int:campaign_id>", endpoint="campaign")
@bp.output(CampaignOut)
@bp.doc(tags=["Campaigns"], summary="Get a campaign", responses=[404])
def get_campaign(campaign_id):
    return policy.get_campaign(current_user, campaign_id)


@bp.get("/campaigns", endpoint="campaigns")
@bp.input(CampaignArgs, location="query")
@bp.output(page_of(CampaignOut, "CampaignPage"))
@bp.doc(tags=["Campaigns"], summary="List campaigns",
        description="Current ones (or archived ones with `archived=true`), newest first. "
                    "Campaigns are shared; the deals in them follow your scope.")
def list_campaigns(query_data):
    stmt = select(Campaign).where(Campaign.archived_at.is_not(None) if query_data["archived"]
                                  else Campaign.archived_at.is_(None))
    after = paging.cursor_from(query_data)
    if after is not None:
        stmt = stmt.where(Campaign.id < int(after))
    limit = query_data["limit"]
    rows = list(db.session.scalars(stmt.order_by(Campaign.id.desc()).limit(limit + 1)))
    return paging.page(rows[:limit], rows[limit - 1].id if len(rows) > limit else None)


@bp.post("/campaigns/<int:campaign_id>/people", endpoint="campaign_add_person")
@bp.input(CampaignPersonIn)
@bp.output(DealOut, status_code=201)
@bp.doc(tags=["Campaigns"], summary="Add someone to a campaign",
        description="Opens a deal for them in the campaign, as on the campaign page. Someone "
                    "who opted out or is do-not-contact is refused (409); someone already in "
                    "it, 422.", responses=[404, 409])
def add_person(campaign_id, json_data):
    campaign = policy.get_campaign(current_user, campaign_id)
    contact = policy.get_contact(current_user, json_data["contact_id"])
    deal = campaigns.add_to_campaign(current_user, campaign, contact,
                                     stage_id=json_data.get("stage_id"),
                                     value_minor=json_data.get("value_minor"))
    db.session.flush()
    return deal, 201


@bp.get("/pipelines", endpoint="pipelines")
@bp.output(page_of(PipelineOut, "PipelineList"))
@bp.doc(tags=["Pipelines"], summary="List pipelines and their stages",
        description="Pipelines in use, each with its stages in board order (retired stages "
                    "included, with `retired_at`). `next` is always null.")
def list_pipelines():
    return {"data": pipelines(), "next": None}


@bp.get("/users", endpoint="users")
@bp.output(page_of(UserOut, "UserList"))
@bp.doc(tags=["Users"], summary="List active users",
        description="Everyone who can sign in, by name (owners and assignees are user "
                    "ids). `next` is always null.")
def list_users():
    return {"data": active_users(), "next": None}


@bp.get("/users/me", endpoint="me")
@bp.output(MeOut)
@bp.doc(tags=["Users"], summary="The user the token acts as")
def me():
    return current_user._get_current_object()
