"""Which records a dashboard counts, as WHERE clauses: "their own" is, for each kind of
record, what SCOPE_NOTE tells the viewer. A rep's dashboard is always scoped to the rep
(crm.policy.report_owner_id); managers and admins see everyone's or choose one owner.
Pipeline and campaign narrow deals only; the platform narrows deals (their platform) and
conversations (theirs).
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from crm import policy
from crm.contacts.models import Contact
from crm.conversations.models import NEEDS_REPLY, Conversation, ResponseTime
from crm.pipeline.models import Deal
from crm.tasks.models import Task

SCOPE_NOTE = ("Deals count when owned; DMs, response times and waiting conversations when "
              "on contacts owned; tasks when assigned; opt-outs on contacts owned, refusals "
              "when attempted.")


@dataclass
class Scope:
    viewer: object
    owner_id: int | None
    start: datetime
    end: datetime
    tz: str
    pipeline_id: int | None = None
    campaign_id: int | None = None
    platform: str | None = None

    @classmethod
    def for_view(cls, viewer, filters) -> "Scope":
        return cls(viewer=viewer, owner_id=policy.report_owner_id(viewer, filters.owner),
                   start=filters.start, end=filters.end, tz=filters.tz,
                   pipeline_id=int(filters.pipeline) if filters.pipeline else None,
                   campaign_id=int(filters.campaign) if filters.campaign else None,
                   platform=filters.platform or None)

    @property
    def cache_key(self) -> tuple:
        """Everything the scope's WHERE clauses depend on (managers all see the same)."""
        return (policy.scope_key(self.viewer), self.owner_id, self.pipeline_id,
                self.campaign_id, self.platform, self.start, self.end, self.tz)

    def reads(self, *tables: str) -> tuple:
        """`tables`, with contacts when the scope's clauses read them: a rep's policy (deals,
        tasks and conversations on contacts the rep may see), one owner's conversations and
        consent (by the contact's owner). For the figure cache (crm.core.cache)."""
        if self.owner_id is not None or not getattr(self.viewer, "is_manager", False):
            tables += ("contacts",)
        return tables

    # Deals --------------------------------------------------------------------------------
    def deal_where(self) -> list:
        where = [policy.deal_scope(self.viewer), Deal.archived_at.is_(None)]
        if self.owner_id is not None:
            where.append(Deal.owner_id == self.owner_id)
        if self.pipeline_id is not None:
            where.append(Deal.pipeline_id == self.pipeline_id)
        if self.campaign_id is not None:
            where.append(Deal.campaign_id == self.campaign_id)
        if self.platform:
            where.append(Deal.platform == self.platform)
        return where

    # Conversations ----------------------------------------------------------------------------
    def conversation_where(self) -> list:
        """Clauses on Conversation itself."""
        if self.owner_id is not None:
            where = [policy.conversation_owner_scope(self.viewer, self.owner_id)]
        else:
            where = [policy.conversation_scope(self.viewer)]
        if self.platform:
            where.append(Conversation.platform == self.platform)
        return where

    @property
    def waiting_on_viewer(self) -> bool:
        """Whether the waiting figure is "waiting on you" (not a manager's choice of owner)."""
        return self.owner_id is None or not getattr(self.viewer, "is_manager", False)

    def waiting_where(self) -> list:
        """Clauses on Conversation for "waiting on you" now (as the badge and Home count it,
        crm.conversations.services.needs_reply_count: not on archived contacts): a rep may
        answer the unassigned contacts' conversations too; a manager's choice of owner is
        that owner's. Both read the conversation's copy of its contact's owner (the owner
        index's ranges), and the few archived contacts are listed once, not every waiting
        conversation's contact looked up."""
        archived = select(Contact.id).where(Contact.archived_at.is_not(None))
        where = [Conversation.state == NEEDS_REPLY, Conversation.contact_id.not_in(archived),
                 policy.conversation_scope(self.viewer)]
        if not self.waiting_on_viewer:
            where.append(Conversation.contact_owner_id == self.owner_id)
        if self.platform:
            where.append(Conversation.platform == self.platform)
        return where

    def in_conversations(self, column) -> list:
        """[column IN (conversations in scope)] or [] when every one counts — for Message and
        ResponseTime."""
        where = [w for w in self.conversation_where() if w is not True]
        return [column.in_(select(Conversation.id).where(*where))] if where else []

    def response_where(self) -> list:
        """The response times of bursts started in the range, in the scope."""
        return [ResponseTime.burst_started_at >= self.start,
                ResponseTime.burst_started_at < self.end,
                *self.in_conversations(ResponseTime.conversation_id)]

    # Tasks ---------------------------------------------------------------------------------
    def task_where(self) -> list:
        where = [policy.task_scope(self.viewer)]
        if self.owner_id is not None:
            where.append(Task.assignee_id == self.owner_id)
        return where

    # Consent -------------------------------------------------------------------------------
    def contact_where(self) -> list:
        if self.owner_id is not None:
            return [policy.owner_scope(self.viewer, self.owner_id)]
        return [policy.contact_scope(self.viewer)]
