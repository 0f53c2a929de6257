"""The board and its moves: columns, "show more", drag-and-drop and the no-JS stage select."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm import policy
from crm.accounts import services as accounts
from crm.campaigns.models import Campaign
from crm.contacts.models import Contact
from crm.core import transaction
from crm.core.errors import OutreachRefused, ServiceError
from crm.core.links import RowUrl
from crm.core.forms import int_or_none
from crm.core.viewer import me
from crm.extensions import db, htmx
from crm.pipeline import board as queries
from crm.pipeline import services
from crm.pipeline.board import BoardFilters
from crm.pipeline.forms import LostForm
from crm.pipeline.models import LOST, OPEN, WON, Deal, LostReason, Pipeline, Stage
from crm.pipeline.blueprint import bp



def fragment() -> bool:
    return bool(htmx and not htmx.boosted)


def open_campaigns(limit: int = 200):
    return db.session.scalars(select(Campaign).where(Campaign.archived_at.is_(None))
                              .order_by(Campaign.created_at.desc()).limit(limit)).all()


def lost_reason_choices():
    reasons = db.session.scalars(select(LostReason).where(LostReason.retired_at.is_(None))
                                 .order_by(LostReason.position, LostReason.name))
    return [("", "Choose a reason…")] + [(str(r.id), r.name) for r in reasons]


def lost_form(formdata=None) -> LostForm:
    form = LostForm(formdata=formdata)
    form.lost_reason_id.choices = lost_reason_choices()
    return form


class CardLinks:
    """The three links of every card, each route built once per page: url_for for each
    card was a tenth of the board's rendering."""

    def __init__(self):
        self.deal = RowUrl("pipeline.deal", "deal_id")
        self.move = RowUrl("pipeline.move", "deal_id")
        self.contact = RowUrl("contacts.show", "contact_id")


bp.add_app_template_global(queries.move_form_id)


def _pipeline_for(f: BoardFilters):
    """The chosen pipeline, or (None, []) when there is none yet (the migrations make the
    ready-made ones: a GET writes nothing)."""
    pipelines = queries.pipelines()
    if not pipelines:
        return None, []
    chosen = next((p for p in pipelines if p.id == f.pipeline), pipelines[0])
    f.pipeline = chosen.id
    return chosen, pipelines


def _board_context(pipeline, f: BoardFilters, counts, only=None, **extra) -> dict:
    ctx = dict(pipeline=pipeline, filters=f,
               columns=queries.columns(me(), pipeline, f, only=only, counts=counts),
               summary=queries.open_total(pipeline, counts),
               move_stages=pipeline.active_stages, lost_form=None, prompt=None,
               links=CardLinks())
    ctx.update(extra)
    return ctx


@bp.get("/board")
def board():
    """The pipeline board: a column per stage with its count and value, newest cards first."""
    f = BoardFilters.from_args(request.args)
    pipeline, pipelines = _pipeline_for(f)
    if pipeline is None:
        return render_template("pipeline/no_pipeline.html")
    ctx = _board_context(pipeline, f, queries.totals(me(), pipeline, f),
                         pipelines=pipelines, owners=accounts.active_users(), campaigns=open_campaigns())
    if fragment() and htmx.target == "board":
        return render_template("pipeline/_board.html", saved_oob=True, **ctx)
    return render_template("pipeline/board.html", **ctx)


@bp.get("/board/stages/<int:stage_id>/cards")
def column_cards(stage_id):
    """More cards of one column after a cursor ("show more", HTMX or plain)."""
    stage = db.session.get(Stage, stage_id)
    if stage is None:
        abort(404)
    f = BoardFilters.from_args(request.args)
    f.pipeline = stage.pipeline_id
    cards, next_cursor = queries.more_cards(me(), stage, f, request.args.get("after"))
    ctx = dict(stage=stage, cards=cards, next_cursor=next_cursor, filters=f,
               pipeline=stage.pipeline, move_stages=stage.pipeline.active_stages,
               links=CardLinks())
    if fragment():
        return render_template("pipeline/_more_cards.html", **ctx)
    return render_template("pipeline/column.html", **ctx)


def _board_update(deal, f: BoardFilters, stage_ids: set, *, message=None, category="success",
                  prompt=None, form=None, status=200, trigger=None):
    """The HTMX answer to a move that did not happen (the lost-reason prompt, a conflict, a
    refusal): the touched columns again as they are (out of band), the dialog, a flash."""
    pipeline = deal.pipeline
    f.pipeline = pipeline.id
    only = {s for s in stage_ids if s}
    html = render_template("pipeline/_board_update.html",
                           **_board_context(pipeline, f,
                                            queries.totals(current_user, pipeline, f, only),
                                            only=only, deal=deal, prompt=prompt,
                                            lost_form=form, message=message,
                                            category=category))
    headers = {"HX-Trigger": trigger} if trigger else {}
    return html, status, headers


def _moved(deal, f: BoardFilters, from_stage_id, message: str, moved: bool) -> str:
    """The HTMX answer to a move: the card at the top of its new column, the count and value
    of the two columns touched, the summary only when a deal opened or closed, a flash.
    Drawn once the move is committed."""
    pipeline = deal.pipeline
    f.pipeline = pipeline.id
    stages = {s.id: s for s in pipeline.stages}
    touched = [stages[i] for i in dict.fromkeys((from_stage_id, deal.stage_id)) if i in stages]
    reopened_or_closed = any(s.outcome != OPEN for s in touched)
    wanted = {s.id for s in touched}
    if reopened_or_closed:
        wanted |= {s.id for s in pipeline.stages if s.outcome == OPEN}
    counts = queries.totals(current_user, pipeline, f, wanted)
    card = None
    if moved and deal.stage.outcome == OPEN:
        card = queries.card_for(current_user, deal)
    return render_template(
        "pipeline/_moved.html", deal=deal, card=card, filters=f, pipeline=pipeline,
        heads=[queries.Column(s, counts.get(s.id, queries.Total())) for s in touched],
        summary=queries.open_total(pipeline, counts) if reopened_or_closed else None,
        move_stages=pipeline.active_stages, message=message, moved=moved, links=CardLinks(),
        undo_stage=stages.get(from_stage_id) if moved and from_stage_id != deal.stage_id
        else None)


def _back(deal, on_board: bool, f: BoardFilters):
    if on_board:
        return redirect(url_for("pipeline.board", **f.as_args()))
    return redirect(url_for("pipeline.deal", deal_id=deal.id))


# A move's answer shows the contact's handle on the card, never their tags. The pipeline
# and its stages come with the deal: the target stage is one of them, and the answer
# redraws the columns it touched.
_MOVE_ANSWER_LOADS = (joinedload(Deal.contact).lazyload(Contact.tags),
                      joinedload(Deal.pipeline).selectinload(Pipeline.stages))


@bp.post("/deals/<int:deal_id>/move")
def move(deal_id):
    """Move a deal to another stage: a drag on the board, a card's select or the deal page."""
    deal = policy.get_deal(current_user, deal_id, options=_MOVE_ANSWER_LOADS)
    on_board = request.form.get("board") == "1"
    f = BoardFilters.from_args(request.form)
    seen_stage = int_or_none(request.form.get("from_stage_id")) or deal.stage_id
    target = int_or_none(request.form.get("stage_id"))
    try:
        moved = services.move_deal(
            current_user, deal, request.form.get("stage_id"),
            expected_version=int_or_none(request.form.get("version")),
            lost_reason_id=request.form.get("lost_reason_id") or None,
            lost_note=request.form.get("lost_note"))
    except OutreachRefused:
        raise
    except ServiceError as e:
        db.session.rollback()
        if e.field in ("lost_reason_id", "lost_note"):
            form = lost_form(request.form)
            stage = db.session.get(Stage, target)
            if request.form.get("prompt") == "1" or not isinstance(e, services.LostReasonRequired):
                form[e.field].errors = [e.message]
            if on_board and fragment():
                return _board_update(deal, f, {seen_stage, target, deal.stage_id},
                                     prompt=stage, form=form)
            return render_template("pipeline/lost.html", deal=deal, stage=stage, form=form,
                                   filters=f, on_board=on_board)
        if on_board and fragment():
            return _board_update(deal, f, {seen_stage, target, deal.stage_id},
                                 message=e.message, category="error")
        flash(e.message, "error")
        return _back(deal, on_board, f)
    message = (f"“{deal.title}” moved to {deal.stage.name}." if moved
               else f"“{deal.title}” is already in {deal.stage.name}.")
    if deal.stage.outcome == LOST and moved:
        message = f"“{deal.title}” marked lost ({deal.lost_reason.name})."
    elif deal.stage.outcome == WON and moved and deal.pipeline.is_influencer:
        message = (f"“{deal.title}” won. Record the posted content and its results on the "
                   "deal's page when they are in.")
    if on_board and fragment():
        return transaction.answer_after_commit(
            lambda: _moved(deal, f, seen_stage, message, moved),
            headers={"HX-Trigger": "dealMoved"} if moved else None)
    flash(message, "success")
    return _back(deal, on_board, f)
