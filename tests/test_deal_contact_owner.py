"""Each deal's copy of its contact's owner (deals.contact_owner_id, written by the services
that open deals and reassign contacts) stays right whichever way the app changes the contact,
and the rep's deal scope that reads it still shows a rep exactly their own deals and the
deals on contacts they may see."""
from sqlalchemy import event, select, text

from crm import policy
from crm.contacts.models import Contact
from crm.contacts.services import set_owner
from crm.extensions import db
from crm.pipeline import board
from crm.pipeline.models import Deal
from tests import factories
from tests.test_board import figures, sales
from tests.test_imports_csv import import_csv


def kept(deal_id: int):
    """The stored copy, read from the database (a loaded Deal may hold an older value)."""
    return db.session.scalar(text("SELECT contact_owner_id FROM deals WHERE id = :id"),
                             {"id": deal_id})


def owner_of_contact(deal_id: int):
    return db.session.scalar(select(Contact.owner_id).join(Deal, Deal.contact_id == Contact.id)
                             .where(Deal.id == deal_id))


def test_a_new_deal_copies_its_contacts_owner(db, rep):
    mine = factories.DealFactory(contact=factories.ContactFactory(owner_id=rep.id))
    nobodys = factories.DealFactory(contact=factories.ContactFactory(owner_id=None),
                                    owner_id=rep.id)
    db.session.commit()
    assert kept(mine.id) == rep.id
    assert kept(nobodys.id) is None


def test_reassigning_or_claiming_a_contact_moves_its_deals(db, manager, rep, other_rep):
    contact = factories.ContactFactory(owner_id=rep.id)
    deals = [factories.DealFactory(contact=contact) for _ in range(2)]
    other = factories.DealFactory(contact=factories.ContactFactory(owner_id=rep.id))
    db.session.commit()
    set_owner(manager, contact, other_rep.id)
    db.session.commit()
    assert [kept(d.id) for d in deals] == [other_rep.id, other_rep.id]
    assert kept(other.id) == rep.id                       # another contact's deal is untouched
    set_owner(manager, contact, None)
    db.session.commit()
    assert [kept(d.id) for d in deals] == [None, None]
    set_owner(rep, contact, rep.id)                       # a rep claims it
    db.session.commit()
    assert [kept(d.id) for d in deals] == [rep.id, rep.id]


def test_reassigning_many_contacts_moves_each_ones_deals(db, manager, rep, other_rep):
    contacts = [factories.ContactFactory(owner_id=rep.id) for _ in range(3)]
    deals = [factories.DealFactory(contact=c) for c in contacts]
    db.session.commit()
    for contact in contacts[:2]:
        set_owner(manager, contact, other_rep.id)
    db.session.commit()
    assert [kept(d.id) for d in deals] == [other_rep.id, other_rep.id, rep.id]


def test_a_csv_import_that_reassigns_moves_the_deals(auth, manager, rep, other_rep):
    contact = factories.ContactFactory(name="Ada Moss", email="ada@example.com", owner_id=rep.id)
    deal = factories.DealFactory(contact=contact)
    db.session.commit()
    run = import_csv(auth.login(manager),
                     f"Name,Email,Owner email\nAda Moss,ada@example.com,{other_rep.email}\n")
    assert run.status == "done"
    assert owner_of_contact(deal.id) == other_rep.id
    assert kept(deal.id) == other_rep.id


def test_every_deal_agrees_with_its_contact_after_a_mix_of_changes(db, manager, rep, other_rep):
    contacts = [factories.ContactFactory(owner_id=o) for o in (rep.id, other_rep.id, None)]
    for c in contacts:
        factories.DealFactory(contact=c)
        factories.DealFactory(contact=c, owner_id=manager.id)
    db.session.commit()
    set_owner(manager, contacts[0], None)
    set_owner(manager, contacts[2], other_rep.id)
    db.session.commit()
    wrong = db.session.execute(text(
        "SELECT d.id FROM deals d JOIN contacts c ON c.id = d.contact_id "
        "WHERE d.contact_owner_id IS NOT c.owner_id" if db.engine.dialect.name == "sqlite" else
        "SELECT d.id FROM deals d JOIN contacts c ON c.id = d.contact_id "
        "WHERE d.contact_owner_id IS DISTINCT FROM c.owner_id")).all()
    assert wrong == []


def test_deal_scope_follows_a_reassignment(auth, db, manager, rep, other_rep):
    """A rep's board counts the deals they own and those on their (or unassigned) contacts,
    and stops counting a deal the moment its contact goes to another rep."""
    new = sales(db, "New")
    on_mine = factories.DealFactory(contact=factories.ContactFactory(owner_id=rep.id),
                                    stage=new, owner_id=other_rep.id, value_minor=100_000)
    owned = factories.DealFactory(contact=factories.ContactFactory(owner_id=other_rep.id),
                                  stage=new, owner_id=rep.id, value_minor=20_000)
    unassigned = factories.DealFactory(contact=factories.ContactFactory(owner_id=None),
                                       stage=new, owner_id=other_rep.id, value_minor=3_000)
    factories.DealFactory(contact=factories.ContactFactory(owner_id=other_rep.id),
                          stage=new, owner_id=other_rep.id, value_minor=400_000)
    db.session.commit()
    visible = set(db.session.scalars(select(Deal.id).where(policy.deal_scope(rep))))
    assert visible == {on_mine.id, owned.id, unassigned.id}
    url = f"/board?pipeline={new.pipeline_id}"
    assert figures(auth.login(rep).get(url).data.decode(), new.id) == (3, "$1,230")

    contact = db.session.get(Contact, on_mine.contact_id)
    set_owner(manager, contact, other_rep.id)
    db.session.commit()
    html = auth.client.get(url).data.decode()
    assert figures(html, new.id) == (2, "$230")
    assert f'id="deal-{on_mine.id}"' not in html and f'id="deal-{owned.id}"' in html


def test_a_reps_totals_read_the_covering_index_alone(db, rep):
    """The rep's column totals never visit contacts: SQLite answers them from
    ix_deals_board_totals alone, in GROUP BY order."""
    if db.engine.dialect.name != "sqlite":
        return
    new = sales(db, "New")
    factories.DealFactory(contact=factories.ContactFactory(owner_id=rep.id), stage=new)
    db.session.commit()
    seen = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        board.totals(rep, new.pipeline, board.BoardFilters())
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    [(statement, parameters)] = [s for s in seen if "GROUP BY" in s[0]]
    plan = " | ".join(row[-1] for row in db.session.connection().exec_driver_sql(
        f"EXPLAIN QUERY PLAN {statement}", parameters))
    assert "COVERING INDEX ix_deals_board_totals" in plan, plan
    assert "contacts" not in plan and "TEMP B-TREE" not in plan, plan
