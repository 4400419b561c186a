"""Wire-level fakes of the providers omnidesk talks to (protocols.md section 5)."""
