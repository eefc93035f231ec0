"""Reproducible clinical-trial reporting."""
