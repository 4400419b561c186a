"""Dramatiq workers: pipeline actors, send actor, scheduled jobs (thin: services do the work)."""

# Importing the broker module first sets the placeholder broker every actor is declared on,
# before any actor module is imported (see workers.broker.install).
from workers import broker as _broker  # noqa: F401
