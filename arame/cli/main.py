"""Console script entry point: ``arame = arame.cli.main:main``."""

from __future__ import annotations

import sys

from arame.cli.app import ArameApp


def main(argv: list[str] | None = None) -> int:
    return ArameApp().run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
