"""Email channel: IMAP in, SMTP out."""

from connectors.email.connector import EmailConnector

__all__ = ["EmailConnector"]
