"""The exam room's rules, one module per topic: each use case commits its own unit of work."""
