"""Scoring predictions against gold on character spans: matching, scores, reports, significance, plots.

The public entry point is :func:`bioner.evaluation.evaluate.evaluate`; this package holds its parts,
one concern a module.
"""
