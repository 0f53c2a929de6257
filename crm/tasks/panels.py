"""The tasks section of the contact page."""
from crm.contacts.consent import may_contact
from crm.contacts.panels import contact_panel


@contact_panel("tasks/_contact_panel.html", order=30)
def tasks_panel(user, contact) -> dict:
    """The contact's open tasks (and the last few closed) with a "new task" form."""
    from crm.tasks.queries import tasks_for_contact
    from crm.tasks.views import new_task_form

    return {"tasks": tasks_for_contact(user, contact),
            "task_form": new_task_form(contact=contact),
            "may_contact": may_contact(contact)}
