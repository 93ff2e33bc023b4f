"""Intake: finding submission files, reading them safely, and turning their text into values."""
