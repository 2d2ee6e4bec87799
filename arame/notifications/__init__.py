"""Arame's public, versioned notifications, for other services.

Apart from the internal `notifications` topic (agents to the collector):
one message each time a task ends, on [notifications] topics, with a
payload whose schema is versioned (payloads.py, schemas/*.json). What a
consumer binds and what it may rely on: doc/source/integration.
"""
