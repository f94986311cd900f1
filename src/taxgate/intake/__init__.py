"""Intake: a batch folder becomes a checked manifest and typed requests, or is refused whole."""
