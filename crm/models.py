"""Every model, imported in one place so Alembic and the app see the whole schema."""
from crm.accounts.models import User  # noqa: F401
from crm.audit.models import AuditEvent  # noqa: F401
from crm.bulk.models import BulkChange, BulkChangeRow  # noqa: F401
from crm.campaigns.models import Campaign  # noqa: F401
from crm.contacts.models import ConsentEvent, Contact, Note, SocialHandle, Tag  # noqa: F401
from crm.conversations.models import Conversation, Message, ResponseTime  # noqa: F401
from crm.dm_templates.models import DMTemplate  # noqa: F401
from crm.imports.models import ImportRun  # noqa: F401
from crm.jobs.models import Job  # noqa: F401
from crm.privacy.models import Erasure, Suppression  # noqa: F401
from crm.pipeline.models import Deal, LostReason, Pipeline, Stage, StageChange  # noqa: F401
from crm.reports.models import (DMHourCount, DMHourTotal, ResponseDayCount,  # noqa: F401
                               SentDayTotal)
from crm.saved_views.models import SavedView  # noqa: F401
from crm.settings.models import Setting  # noqa: F401
from crm.tasks.models import Task  # noqa: F401
from crm.channels.models import Channel, ChannelEvent, OutboundSend, WhatsAppTemplate  # noqa: F401
from crm.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint  # noqa: F401
