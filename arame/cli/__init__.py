"""The ``arame`` command line, built on cliff over the SDK."""
