"""The base application: configuration, database, clock, security, errors, auth helpers, audit."""
