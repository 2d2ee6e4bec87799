# Sourced by tools/*: sets PY to a Python 3.11+ where Arame can be installed.
# A distribution Python marked EXTERNALLY-MANAGED (PEP 668, stock Debian 12)
# refuses pip installs: use a virtualenv in .venv instead, and put its bin/
# first on PATH so the console scripts are found.
PY=python3
if "$PY" - <<'PYEOF'
import os, sys, sysconfig
sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["stdlib"],
                                          "EXTERNALLY-MANAGED")) else 1)
PYEOF
then
    if [ ! -x .venv/bin/python ]; then
        "$PY" -m venv .venv 2>/dev/null || {
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
            "$PY" -m venv .venv; }
    fi
    PY="$PWD/.venv/bin/python"
    export PATH="$PWD/.venv/bin:$PATH"
fi
