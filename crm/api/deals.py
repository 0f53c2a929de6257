"""/api/v1/deals: a board column's deals (the board's own query and filters), a deal, and
moving it to another stage with the version read (409 when it moved meanwhile)."""
from flask import abort, url_for
from flask_login import current_user

from crm import policy
from crm.api import paging
from crm.api.blueprint import bp
from crm.api.schemas import (DealArgs, DealIn, DealMoveIn, DealOut, DealPatch, DealSummaryOut,
                             page_of)
from crm.contacts.models import Contact
from crm.core.errors import ValidationFailed
from crm.extensions import db
from crm.pipeline import services
from crm.pipeline.board import BoardFilters, more_cards
from crm.pipeline.models import Stage

TAG = "Deals"


@bp.get("/deals", endpoint="deals")
@bp.input(DealArgs, location="query")
@bp.output(page_of(DealSummaryOut, "DealPage"))
@bp.doc(tags=[TAG], summary="List a stage's deals",
        description="The deals of one stage you may see (a column of the board), newest in "
                    "the stage first, with the board's filters.", responses=[404])
def list_deals(query_data):
    stage = db.session.get(Stage, query_data["stage"])
    if stage is None:
        abort(404)
    args = {k: str(query_data[k]) for k in ("owner", "campaign", "platform") if k in query_data}
    cards, more = more_cards(current_user, stage, BoardFilters.from_args(args),
                             paging.cursor_from(query_data), size=query_data["limit"])
    return paging.page([card.deal for card in cards], more)


@bp.get("/deals/<int:deal_id>", endpoint="deal")
@bp.output(DealOut)
@bp.doc(tags=[TAG], summary="Get a deal", responses=[404])
def get_deal(deal_id):
    return policy.get_deal(current_user, deal_id)


@bp.post("/deals/<int:deal_id>/move", endpoint="move_deal")
@bp.input(DealMoveIn)
@bp.output(DealOut)
@bp.doc(tags=[TAG], summary="Move a deal to another stage",
        description="Send the `version` you read: when the deal changed meanwhile the move "
                    "is refused with 409 and nothing changes. A lost stage needs "
                    "`lost_reason_id`.", responses=[404, 409])
def move_deal(deal_id, json_data):
    deal = policy.get_deal(current_user, deal_id)
    services.move_deal(current_user, deal, json_data["stage_id"],
                       expected_version=json_data["version"],
                       lost_reason_id=json_data.get("lost_reason_id"),
                       lost_note=json_data.get("lost_note"))
    db.session.flush()
    return deal


FIELDS = ("title", "value_minor", "currency", "owner_id", "campaign_id", "platform",
          "expected_close_on", "next_step", "next_step_on")


@bp.post("/deals", endpoint="create_deal")
@bp.input(DealIn)
@bp.output(DealOut, status_code=201)
@bp.doc(tags=[TAG], summary="Open a deal",
        description="For a contact you may see, in an open stage. A deal in a campaign for "
                    "someone who may not be contacted is refused (409).", responses=[409])
def create_deal(json_data):
    contact = db.session.get(Contact, json_data["contact_id"])
    if contact is None or not policy.can_view_contact(current_user, contact):
        raise ValidationFailed("Choose a contact you can see.", field="contact_id")
    deal = services.create_deal(current_user, contact,
                                {k: json_data[k] for k in FIELDS if k in json_data},
                                stage_id=json_data.get("stage_id"))
    db.session.flush()
    return deal, 201, {"Location": url_for("api.deal", deal_id=deal.id)}


@bp.patch("/deals/<int:deal_id>", endpoint="update_deal")
@bp.input(DealPatch)
@bp.output(DealOut)
@bp.doc(tags=[TAG], summary="Edit a deal",
        description="Only the fields sent change (not the stage: see move). A change made "
                    "since you read `version` answers 409.", responses=[404, 409])
def update_deal(deal_id, json_data):
    deal = policy.get_deal(current_user, deal_id)
    services.update_deal(current_user, deal, {k: json_data[k] for k in FIELDS if k in json_data},
                         expected_version=json_data["version"])
    db.session.flush()
    return deal
