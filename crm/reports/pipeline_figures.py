"""Pipeline figures: open value per stage, won and lost, win rate, days to close, the
stage-to-stage funnel and time in stage (both from the stage history), deals with no next
step. One grouped query each; amounts stay per currency (they are never added across)."""
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import case, exists, func, or_, select

from crm.extensions import db
from crm.pipeline.board import pipelines
from crm.pipeline.models import LOST, OPEN, WON, Deal, Pipeline, Stage, StageChange
from crm.core.cache import remember
from crm.reports.sqlhelp import ratio, seconds_between
from crm.tasks.models import Task

WON_RANK = 1_000_000   # a won stage counts as beyond every open stage in the funnel


class Amounts(Counter):
    """currency -> minor units (update() adds another's amounts in)."""

    def add(self, currency: str, minor) -> None:
        self[currency] += int(minor or 0)

    @property
    def items_sorted(self) -> list[tuple[str, int]]:
        return sorted(self.items(), key=lambda kv: (-kv[1], kv[0]))


@dataclass
class StageRow:
    stage: Stage
    open_count: int = 0
    open_value: Amounts = field(default_factory=Amounts)
    reached: int | None = None         # funnel: cohort deals that got this far or beyond
    conversion: float | None = None     # share of those that went on to the next step
    moves_out: int = 0                  # deals that left this stage in the range
    seconds_total: int = 0

    @property
    def avg_seconds(self) -> float | None:
        return self.seconds_total / self.moves_out if self.moves_out else None


@dataclass
class PipelineBlock:
    pipeline: Pipeline
    stages: list = field(default_factory=list)      # StageRow, open stages in board order
    cohort: int = 0                                  # deals opened in the range
    won_reached: int = 0

    @property
    def is_empty(self) -> bool:
        """Nothing to show: no open deals, none opened, none moved in the range."""
        return not (self.cohort or any(r.open_count or r.moves_out for r in self.stages))

    @property
    def funnel(self) -> list[StageRow]:
        return [r for r in self.stages if r.stage.retired_at is None]


@dataclass
class PipelineFigures:
    blocks: list = field(default_factory=list)
    open_count: int = 0
    open_value: Amounts = field(default_factory=Amounts)
    won_count: int = 0
    won_value: Amounts = field(default_factory=Amounts)
    lost_count: int = 0
    close_seconds_total: float = 0.0
    close_count: int = 0
    no_next_step: int = 0
    won_by_owner: dict = field(default_factory=dict)     # owner id -> Amounts
    currency: str = "USD"                                 # the one the charts draw

    @property
    def win_rate(self) -> float | None:
        return ratio(self.won_count, self.won_count + self.lost_count)

    @property
    def avg_days_to_close(self) -> float | None:
        return self.close_seconds_total / self.close_count / 86400 if self.close_count else None


def pipelines_in_view(scope) -> list[Pipeline]:
    if scope.pipeline_id is None:
        return pipelines()   # the board's: active ones, in order
    return list(db.session.scalars(select(Pipeline).where(Pipeline.id == scope.pipeline_id)))


def opened_at():
    """When a deal entered its pipeline: its first stage change (else its creation)."""
    first = (select(func.min(StageChange.at))
             .where(StageChange.deal_id == Deal.id, StageChange.from_stage_id.is_(None))
             .scalar_subquery())
    return func.coalesce(first, Deal.created_at)


def open_by_stage(scope) -> dict:
    rows = db.session.execute(
        select(Deal.stage_id, Deal.currency, func.count(), func.sum(Deal.value_minor))
        .where(Deal.outcome == OPEN, *scope.deal_where())
        .group_by(Deal.stage_id, Deal.currency))
    out: dict = {}
    for stage_id, currency, count, value in rows:
        entry = out.setdefault(stage_id, [0, Amounts()])
        entry[0] += count
        entry[1].add(currency, value)
    return out


def closed_in_range(scope) -> list:
    """(outcome, owner id, currency, count, value, seconds to close summed) per group."""
    seconds = seconds_between(Deal.closed_at, opened_at())
    return db.session.execute(
        select(Deal.outcome, Deal.owner_id, Deal.currency, func.count(),
               func.sum(Deal.value_minor), func.sum(seconds))
        .where(Deal.outcome.in_((WON, LOST)), Deal.closed_at >= scope.start,
               Deal.closed_at < scope.end, *scope.deal_where())
        .group_by(Deal.outcome, Deal.owner_id, Deal.currency)).all()


def opened_in_range(scope):
    """The ids of the deals that entered their pipeline in the range (the funnel's cohort)."""
    return select(StageChange.deal_id).where(StageChange.from_stage_id.is_(None),
                                             StageChange.at >= scope.start,
                                             StageChange.at < scope.end)


def funnel_reach(scope) -> dict:
    """{pipeline id: {rank reached: deals}} for the deals opened in the range."""
    rank = case((Stage.outcome == WON, WON_RANK), (Stage.outcome == OPEN, Stage.position),
                else_=None)
    per_deal = (select(StageChange.deal_id.label("deal_id"), func.max(rank).label("reached"))
                .join(Stage, Stage.id == StageChange.to_stage_id)
                .where(StageChange.deal_id.in_(opened_in_range(scope)))
                .group_by(StageChange.deal_id).subquery())
    rows = db.session.execute(
        select(Deal.pipeline_id, per_deal.c.reached, func.count())
        .join(per_deal, per_deal.c.deal_id == Deal.id)
        .where(*scope.deal_where())
        .group_by(Deal.pipeline_id, per_deal.c.reached))
    out: dict = {}
    for pipeline_id, reached, count in rows:
        out.setdefault(pipeline_id, {})[reached] = count
    return out


def time_in_stage(scope, stage_ids) -> dict:
    """{stage id: (moves out in the range, seconds spent summed)} for the stages `stage_ids`
    (one range of ix_stage_changes_from_at each; "any source stage" made SQLite read the
    range by time and look up every stage change)."""
    if not stage_ids:
        return {}
    rows = db.session.execute(
        select(StageChange.from_stage_id, func.count(),
               func.sum(StageChange.seconds_in_from_stage))
        .join(Deal, Deal.id == StageChange.deal_id)
        .where(StageChange.from_stage_id.in_(stage_ids), StageChange.at >= scope.start,
               StageChange.at < scope.end, StageChange.seconds_in_from_stage.is_not(None),
               *scope.deal_where())
        .group_by(StageChange.from_stage_id))
    return {stage_id: (count, int(total or 0)) for stage_id, count, total in rows}


def no_next_step_where():
    """Open deals with no next step written and no open task (the board's rule)."""
    # Two NOT EXISTS rather than one with OR, so each probes its own task index.
    on_deal = exists().where(Task.deal_id == Deal.id, Task.status == "open")
    on_contact = exists().where(Task.contact_id == Deal.contact_id, Task.status == "open",
                                Task.deal_id.is_(None))
    return [Deal.outcome == OPEN,
            or_(Deal.next_step.is_(None), func.trim(Deal.next_step) == ""), ~on_deal,
            ~on_contact]


def no_next_step_count(scope) -> int:
    return db.session.scalar(select(func.count()).select_from(Deal)
                             .where(*no_next_step_where(), *scope.deal_where()))


def pipeline_figures(scope) -> PipelineFigures:
    """Every pipeline figure for the scope, in seven queries whatever the number of deals."""
    key = scope.cache_key
    pipelines = pipelines_in_view(scope)
    open_rows = remember("open_by_stage", key, lambda: open_by_stage(scope), scope.reads("deals"))
    reach = remember("funnel", key, lambda: funnel_reach(scope),
                     scope.reads("deals", "stage_changes", "stages"))
    shown = tuple(stage.id for pipeline in pipelines for stage in pipeline.stages
                  if stage.outcome == OPEN)
    moves = remember("time_in_stage", key + shown, lambda: time_in_stage(scope, shown),
                     scope.reads("deals", "stage_changes"))
    fig = PipelineFigures()
    for pipeline in pipelines:
        block = PipelineBlock(pipeline)
        counts = reach.get(pipeline.id, {})
        block.cohort = sum(counts.values())
        block.won_reached = counts.get(WON_RANK, 0)
        for stage in pipeline.stages:
            if stage.outcome != OPEN:
                continue
            count, value = open_rows.get(stage.id, (0, Amounts()))
            moved, seconds = moves.get(stage.id, (0, 0))
            if stage.retired_at is not None and not (count or moved):
                continue
            row = StageRow(stage, count, value, moves_out=moved, seconds_total=seconds)
            if stage.retired_at is None:
                row.reached = sum(n for r, n in counts.items()
                                  if r is not None and r >= stage.position)
            block.stages.append(row)
            fig.open_count += count
            fig.open_value.update(value)
        funnel = block.funnel
        for row, nxt in zip(funnel, [r.reached for r in funnel[1:]] + [block.won_reached]):
            row.conversion = ratio(nxt, row.reached)
        fig.blocks.append(block)
    closed = remember("closed", key, lambda: [tuple(r) for r in closed_in_range(scope)],
                      scope.reads("deals", "stage_changes"))
    for outcome, owner_id, currency, count, value, seconds in closed:
        if outcome == WON:
            fig.won_count += count
            fig.won_value.add(currency, value)
            fig.won_by_owner.setdefault(owner_id, Amounts()).add(currency, value)
            fig.close_seconds_total += float(seconds or 0)
            fig.close_count += count
        else:
            fig.lost_count += count
    fig.no_next_step = remember("no_next_step", key, lambda: no_next_step_count(scope),
                                scope.reads("deals", "tasks"))
    both = Amounts(fig.open_value)
    both.update(fig.won_value)
    fig.currency = both.items_sorted[0][0] if both else "USD"
    return fig
