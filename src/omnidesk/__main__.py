"""`python -m omnidesk` runs the CLI."""

from omnidesk.cli import main

main()
