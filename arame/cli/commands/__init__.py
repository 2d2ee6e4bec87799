"""Command classes, one module per resource; names are in arame.cli.registry."""
