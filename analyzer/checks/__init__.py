"""Checks: pure functions from the model to findings with evidence and ranked repairs."""
