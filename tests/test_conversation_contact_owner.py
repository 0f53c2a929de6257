"""Each conversation's copy of its contact's owner (conversations.contact_owner_id, written by
the services that make conversations, reassign contacts and move conversations) stays right
whichever way the app changes them, and the scopes that read it show a rep exactly the
conversations of contacts they may see."""

from sqlalchemy import select, text, update

from crm import policy
from crm.contacts.models import Contact
from crm.contacts.services import set_owner
from crm.conversations import services as dms
from crm.conversations.models import Conversation
from crm.extensions import db
from tests import factories
from tests.test_imports_csv import import_csv
from tests.test_imports_support import DATA, import_dm, import_storage  # noqa: F401 (fixture)


def disagreeing() -> list:
    """Conversations whose copy is not their contact's owner, read from the database."""
    same = "IS NOT" if db.engine.dialect.name == "sqlite" else "IS DISTINCT FROM"
    return db.session.execute(text(
        "SELECT v.id FROM conversations v JOIN contacts c ON c.id = v.contact_id "
        f"WHERE v.contact_owner_id {same} c.owner_id")).all()


def kept(conversation_id: int):
    return db.session.scalar(text("SELECT contact_owner_id FROM conversations WHERE id = :id"),
                             {"id": conversation_id})


def test_a_dm_on_a_new_thread_makes_a_conversation_with_its_contacts_owner(db, rep, manager):
    mine = factories.ContactFactory(owner_id=rep.id)
    nobodys = factories.ContactFactory(owner_id=None)
    db.session.commit()
    for contact in (mine, nobodys):
        dms.log_message(manager, contact, platform="instagram", direction="in", body="Hi")
    db.session.commit()
    kept_by_contact = dict(db.session.execute(select(Conversation.contact_id,
                                                     Conversation.contact_owner_id)).all())
    assert kept_by_contact == {mine.id: rep.id, nobodys.id: None}


def test_reassigning_or_claiming_a_contact_moves_its_conversations(db, manager, rep, other_rep):
    contact = factories.ContactFactory(owner_id=rep.id)
    convs = [factories.ConversationFactory(contact=contact, platform=p) for p in ("x", "tiktok")]
    other = factories.ConversationFactory(contact=factories.ContactFactory(owner_id=rep.id))
    db.session.commit()
    set_owner(manager, contact, other_rep.id)
    db.session.commit()
    assert [kept(c.id) for c in convs] == [other_rep.id, other_rep.id]
    assert kept(other.id) == rep.id                  # another contact's conversation stays
    set_owner(manager, contact, None)
    db.session.commit()
    assert [kept(c.id) for c in convs] == [None, None]
    set_owner(rep, contact, rep.id)                  # a rep claims it
    db.session.commit()
    assert [kept(c.id) for c in convs] == [rep.id, rep.id]


def test_a_csv_import_that_reassigns_moves_the_conversations(auth, manager, rep, other_rep):
    contact = factories.ContactFactory(name="Ada Moss", email="ada@example.com", owner_id=rep.id)
    conv = factories.ConversationFactory(contact=contact)
    db.session.commit()
    run = import_csv(auth.login(manager),
                     f"Name,Email,Owner email\nAda Moss,ada@example.com,{other_rep.email}\n")
    assert run.status == "done"
    assert kept(conv.id) == other_rep.id


def test_a_dm_export_makes_its_conversations_with_their_contacts_owner(auth, rep):
    assert import_dm(auth.login(rep), DATA / "samples/instagram")
    assert db.session.scalar(select(db.func.count()).select_from(Conversation)) > 0
    assert disagreeing() == []


def test_rebuild_rollup_puts_back_a_copy_changed_around_the_app(app, db, rep, other_rep):
    conv = factories.ConversationFactory(contact=factories.ContactFactory(owner_id=rep.id))
    db.session.commit()
    db.session.execute(update(Contact).where(Contact.id == conv.contact_id)
                       .values(owner_id=other_rep.id))
    db.session.commit()
    assert disagreeing() != []
    result = app.test_cli_runner().invoke(args=["reports", "rebuild-rollup"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert disagreeing() == [] and kept(conv.id) == other_rep.id


def test_a_reps_conversation_scope_follows_a_reassignment(db, manager, rep, other_rep):
    mine = factories.ConversationFactory(contact=factories.ContactFactory(owner_id=rep.id))
    unassigned = factories.ConversationFactory(contact=factories.ContactFactory(owner_id=None))
    factories.ConversationFactory(contact=factories.ContactFactory(owner_id=other_rep.id))
    db.session.commit()

    def visible(clause):
        return set(db.session.scalars(select(Conversation.id).where(clause)))

    assert visible(policy.conversation_scope(rep)) == {mine.id, unassigned.id}
    assert visible(policy.conversation_owner_scope(rep, rep.id)) == {mine.id}
    assert visible(policy.conversation_owner_scope(rep, other_rep.id)) == set()
    set_owner(manager, db.session.get(Contact, mine.contact_id), other_rep.id)
    db.session.commit()
    assert visible(policy.conversation_scope(rep)) == {unassigned.id}
    assert len(visible(policy.conversation_owner_scope(manager, other_rep.id))) == 2
