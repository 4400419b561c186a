"""Channel connectors: one package per channel, each importing only the omnidesk core."""
