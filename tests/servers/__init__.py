"""Fixtures that start real servers for the tests: Redis, PostgreSQL, Dovecot IMAP, SMTP."""
