"""The composition root: which handlers react to which domain events, and which daily jobs the worker
runs. Every process calls `configure()` once at start-up (the app, the worker and the command line do;
the test suite too): a unit of work that records events in a process left unwired raises instead of
silently notifying nobody.

A new reaction to RDV changes (Microsoft 365, ANTS...) is a handler and one line here.
"""

from __future__ import annotations

from rdv_app.db import messagebus
from rdv_app.domain.events import AvailabilityChanged, RdvChanged, RecordChanged
from rdv_app.notify import ants, daily_jobs, events, long_jobs, notices, outlook, prescription, withdrawals
from rdv_app.services import retention
from rdv_app.services.availability.plages import purge_expired_plages
from rdv_app.services.integrations import webhooks
from rdv_app.services.rdv import rdv_export


def configure() -> None:
    if messagebus.is_configured():
        return
    messagebus.register(RdvChanged, withdrawals.on_rdv_changed)
    messagebus.register(RdvChanged, events.on_rdv_changed)
    messagebus.register(RdvChanged, webhooks.on_rdv_changed)
    messagebus.register(RdvChanged, prescription.on_rdv_changed)
    messagebus.register(RdvChanged, outlook.on_rdv_changed)
    messagebus.register(AvailabilityChanged, notices.on_availability_changed)
    messagebus.register(AvailabilityChanged, webhooks.on_availability_changed)
    messagebus.register(RecordChanged, webhooks.on_record_changed)
    messagebus.register(RdvChanged, ants.on_rdv_changed)
    messagebus.register(RecordChanged, ants.on_record_changed)
    daily_jobs.register("purge_plages", purge_expired_plages)
    daily_jobs.register("purge_exports", rdv_export.purge_exports)
    long_jobs.register("exports", lambda url, stopping: rdv_export.build_next_export(url, stopping=stopping))
    for name, job in retention.DAILY_JOBS.items():
        daily_jobs.register(name, job)
    messagebus.mark_configured()
