"""Grading: tolerances, scoring, results; review/ for carried-forward credit and named mistakes."""
