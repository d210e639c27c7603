"""Ingest: the simulator of the source systems, readers, validation, dedupe, quarantine, load."""
