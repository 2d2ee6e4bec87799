"""Sphinx configuration for Arame's documentation.

Built offline with warnings as errors (``sphinx-build -W``): no intersphinx,
no theme or asset fetched from the network, no link out of the repository.
The reference parts are generated from the code at build time (options,
policies, state tables, the OpenAPI document, the CLI), so they cannot drift.
"""

import os
import sys

from docutils import nodes

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "_ext"))
sys.path.insert(0, ROOT)

project = "Arame"
copyright = "Arame contributors"
author = "Arame contributors"

extensions = [
    "sphinx.ext.autodoc",
    "oslo_config.sphinxext",
    "oslo_policy.sphinxext",
    "reno.sphinxext",
    "arame_states",
    "arame_openapi",
    "cliff.sphinxext",
]

# The committed document the API serves (tools/gen-openapi writes it).
arame_openapi_path = os.path.join(ROOT, "arame", "api", "openapi.json")

exclude_patterns = ["_build"]
master_doc = "index"
language = "en"
html_theme = "alabaster"
html_static_path = []
html_show_sourcelink = False
# The theme's "powered by" footer links out of the repository.
html_show_sphinx = False
html_theme_options = {"show_powered_by": False}

# The RPC contracts are the rpcapi classes' own docstrings and signatures.
autodoc_member_order = "bysource"
autodoc_typehints = "signature"


def _rpcapi_docstrings_as_written(app, what, name, obj, options, lines):
    """The rpcapis' docstrings are plain text (Nova-style version lists,
    message shapes as JSON): show them verbatim rather than parse them as
    reST, so that a docstring edit can never break the build."""
    in_rpcapi = name.endswith(".rpcapi") or ".rpcapi." in name
    if in_rpcapi and any(line.strip() for line in lines):
        lines[:] = ["::", ""] + ["    " + line for line in lines] + [""]


def _no_bare_uris(app, doctree):
    """docutils turns any ``scheme:...`` in text into a link: in generated
    help text that makes links out of rule syntax (``tcp:22,22,...``) and
    of option defaults (``http://<address>``). Keep them as text; a link
    out of the repository is never meant (tests/unit/test_docs.py)."""
    for ref in list(doctree.findall(nodes.reference)):
        uri = ref.get("refuri", "")
        if uri and ref.astext() in (uri, uri.removeprefix("mailto:")):
            ref.replace_self(nodes.literal(uri, ref.astext()))


def setup(app):
    app.connect("autodoc-process-docstring", _rpcapi_docstrings_as_written)
    app.connect("doctree-read", _no_bare_uris)
