"""Dramatiq workers: the pipeline actors, the send actor and scheduled jobs (thin; services do the work)."""
