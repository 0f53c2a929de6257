"""The tasks section of the contact page."""
from crm.contacts.consent import may_contact
from crm.contacts.page_sections import contact_panel
from crm.tasks.queries import tasks_for_contact


@contact_panel("tasks/_contact_panel.html", order=30)
def tasks_panel(user, contact) -> dict:
    """The contact's open tasks (and the last few closed) with a "New task" button.

    The form itself is fetched when the button is pressed (GET /tasks/new?contact_id=…
    answers HTMX with the inline form, anything else with the full page).
    """
    return {"tasks": tasks_for_contact(user, contact), "task_form": None,
            "may_contact": may_contact(contact)}
