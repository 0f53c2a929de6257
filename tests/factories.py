"""factory-boy factories for the models."""
import factory
from factory.alchemy import SQLAlchemyModelFactory

from crm.accounts.models import User
from crm.contacts.models import Contact, SocialHandle
from crm.extensions import db

PASSWORD = "correct horse battery"


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class UserFactory(Base):
    class Meta:
        model = User

    name = factory.Sequence(lambda n: f"User {n}")
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    role = "rep"
    password_hash = "unset"

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or PASSWORD)


class ContactFactory(Base):
    class Meta:
        model = Contact

    name = factory.Sequence(lambda n: f"Person {n}")
    kind = "contact"
    first_name = factory.LazyAttribute(lambda o: o.name.split()[0])

    @factory.post_generation
    def search(obj, create, extracted, **kwargs):
        from crm.contacts.services import refresh_search_text
        refresh_search_text(obj)


class HandleFactory(Base):
    class Meta:
        model = SocialHandle

    contact = factory.SubFactory(ContactFactory)
    platform = "instagram"
    handle = factory.Sequence(lambda n: f"handle{n}")


# Pipeline, campaigns and tasks -----------------------------------------------------------
from sqlalchemy import select  # noqa: E402

from crm.campaigns.models import Campaign  # noqa: E402
from crm.core.timeutil import utcnow  # noqa: E402
from crm.pipeline.defaults import ensure_default_pipelines  # noqa: E402
from crm.pipeline.models import Deal, Pipeline, Stage  # noqa: E402
from crm.tasks.models import Task  # noqa: E402


def default_stage(pipeline_name: str = "Sales", position: int = 0) -> Stage:
    """A stage of one of the ready-made pipelines (created on first use)."""
    ensure_default_pipelines()
    return db.session.scalars(select(Stage).join(Pipeline).where(Pipeline.name == pipeline_name)
                              .order_by(Stage.position)).all()[position]


class CampaignFactory(Base):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    brand = "Glow Theory"
    budget_minor = 1_000_000
    currency = "USD"


class DealFactory(Base):
    class Meta:
        model = Deal

    contact = factory.SubFactory(ContactFactory)
    stage = factory.LazyFunction(default_stage)
    pipeline_id = factory.LazyAttribute(lambda o: o.stage.pipeline_id)
    title = factory.Sequence(lambda n: f"Deal {n}")
    value_minor = 100_000
    currency = "USD"
    owner_id = factory.LazyAttribute(lambda o: o.contact.owner_id)
    contact_owner_id = factory.LazyAttribute(lambda o: o.contact.owner_id)
    outcome = factory.LazyAttribute(lambda o: o.stage.outcome)


class TaskFactory(Base):
    class Meta:
        model = Task

    title = factory.Sequence(lambda n: f"Task {n}")
    due_at = factory.LazyFunction(utcnow)
    status = "open"



# Conversations and templates -------------------------------------------------------------
from crm.conversations.models import Conversation, Message  # noqa: E402
from crm.core.timeutil import utcnow as _utcnow  # noqa: E402
from crm.dm_templates.models import DMTemplate  # noqa: E402


class ConversationFactory(Base):
    class Meta:
        model = Conversation

    contact = factory.SubFactory(ContactFactory)
    # as the services write it: the contact's owner when the conversation is made
    contact_owner_id = factory.LazyAttribute(lambda o: o.contact.owner_id)
    platform = "instagram"
    external_thread_id = ""
    state = "closed"
    message_count = 0


class MessageFactory(Base):
    """A raw message row: reply state is not updated (the services do that)."""

    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    direction = "in"
    body = factory.Sequence(lambda n: f"Message {n}")
    sent_at = factory.LazyFunction(_utcnow)


class DMTemplateFactory(Base):
    class Meta:
        model = DMTemplate

    name = factory.Sequence(lambda n: f"Template {n}")
    body = "Hi {first_name}, it's {my_name}!"


def reply_state_snapshot():
    """Everything the reply state keeps (conversations, response times, Message.replied_at),
    as lists of rows, to compare before and after a rebuild."""
    from crm.conversations.models import ResponseTime

    convs = db.session.execute(
        select(Conversation.id, Conversation.state, Conversation.message_count,
               Conversation.last_message_at, Conversation.last_inbound_at,
               Conversation.last_outbound_at, Conversation.waiting_since,
               Conversation.last_message_preview).order_by(Conversation.id)).all()
    bursts = db.session.execute(
        select(ResponseTime.conversation_id, ResponseTime.burst_started_at,
               ResponseTime.answered_at, ResponseTime.response_seconds,
               ResponseTime.responder_id)
        .order_by(ResponseTime.conversation_id, ResponseTime.burst_started_at)).all()
    replied = db.session.execute(select(Message.id, Message.replied_at)
                                 .order_by(Message.id)).all()
    return convs, bursts, replied
