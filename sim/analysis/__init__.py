"""Comparisons, calibration targets, headline tables, sensitivity, queueing theory."""
