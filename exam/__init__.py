"""Sittings, registration, admission, form assembly, timed delivery, proctoring."""
