"""Email channel: IMAP in, SMTP out."""
