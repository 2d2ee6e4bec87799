"""setup.cfg's entry points are the command table: the CLI reference
(doc/source/user/cli.rst, cliff's Sphinx extension) is generated from the
installed entry points, so a command missing there is missing from the
docs."""

import configparser
import pathlib

from arame.cli.registry import entry_points

SETUP_CFG = pathlib.Path(__file__).resolve().parents[3] / "setup.cfg"


def test_setup_cfg_lists_every_command_of_the_table():
    cfg = configparser.ConfigParser()
    cfg.read(SETUP_CFG)
    listed = cfg["options.entry_points"]["arame.cli"].strip().splitlines()

    assert listed == entry_points(), (
        "regenerate the [options.entry_points] arame.cli block of setup.cfg "
        "from arame.cli.registry.entry_points()"
    )
