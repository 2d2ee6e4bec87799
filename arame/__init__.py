"""Arame: an IaaS cloud controller."""

__version__ = "0.1.0"
