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


# Conversations and templates -------------------------------------------------------------
from crm.conversations.models import Conversation, Message  # noqa: E402
from crm.core.timeutil import utcnow as _utcnow  # noqa: E402
from crm.dm_templates.models import DMTemplate  # noqa: E402


class ConversationFactory(Base):
    class Meta:
        model = Conversation

    contact = factory.SubFactory(ContactFactory)
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
