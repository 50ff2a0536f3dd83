"""Competency frameworks, versioned items with review, blueprints, import/export, coverage."""
