"""Bare-metal drivers: hardware types (power + management interfaces)
loaded by name from `[bma] driver` through the `arame.bma.drivers` entry
points."""
