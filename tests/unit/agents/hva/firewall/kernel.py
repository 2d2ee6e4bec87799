"""A host's netfilter in memory, enough of it to read back what the
firewall wrote: iptables-restore --noflush (atomic, chains declared are
flushed, -X refused for a chain in use), iptables-save, ipset restore and
list (a set in use cannot be destroyed). ebtables and conntrack answer
and are recorded, nothing more."""

import copy
import re

from arame.common import runner

BUILTIN = ("INPUT", "FORWARD", "OUTPUT")
_VERDICTS = {"ACCEPT", "DROP", "RETURN"}


class Kernel:
    def __init__(self):
        self.chains: dict[str, list[str]] = {c: [] for c in BUILTIN}
        self.sets: set[str] = set()
        self.commands: list[list[str]] = []

    # -- the commands ----------------------------------------------------

    def run(self, args, *, input=None, ok_codes=(0,), **kw):
        args = list(args)
        self.commands.append(args)
        out = ""
        if args == ["iptables-restore", "--version"]:
            out = "iptables-restore v1.8.9 (nf_tables)"
        elif args[0] == "iptables-restore":
            self._restore(args, input)
        elif args[0] == "iptables-save":
            out = self.save()
        elif args[0] == "ebtables-save":
            out = "*filter\n:INPUT ACCEPT\n:FORWARD ACCEPT\nCOMMIT\n"
        elif args[:2] == ["ipset", "list"]:
            out = "".join(n + "\n" for n in sorted(self.sets))
        elif args[0] == "ipset":
            self._ipset(args, input)
        return runner.Result(args, 0, out, "")

    def _fail(self, args, why):
        raise runner.CommandError(args, f"exit 1: {why}", exit_code=1)

    def _restore(self, args, text):
        new = copy.deepcopy(self.chains)
        for line in text.splitlines():
            if line in ("*filter", "COMMIT") or not line:
                continue
            if line.startswith(":"):
                new[line[1:].split()[0]] = []
            elif line.startswith(("-A ", "-I ")):
                words = line.split()
                chain = words[1]
                if chain not in new:
                    self._fail(args, f"Chain '{chain}' does not exist")
                target = words[words.index("-j") + 1]
                if target not in _VERDICTS and target not in new:
                    self._fail(args, f"Chain '{target}' does not exist")
                for s in re.findall(r"--match-set (\S+)", line):
                    if s not in self.sets:
                        self._fail(args, f"Set {s} doesn't exist")
                if words[0] == "-I":
                    rule = " ".join(["-A", chain] + words[3:])
                    new[chain].insert(int(words[2]) - 1, rule)
                else:
                    new[chain].append(line)
            elif line.startswith("-X "):
                chain = line.split()[1]
                if any(
                    r.endswith(f"-j {chain}")
                    for rs in new.values()
                    for r in rs
                ):
                    self._fail(args, f"Chain {chain} in use")
                new.pop(chain, None)
            else:
                self._fail(args, f"cannot parse {line!r}")
        self.chains = new

    def _ipset(self, args, text):
        for line in text.splitlines():
            verb, name = line.split()[:2]
            if verb == "create":
                self.sets.add(name)
            elif verb == "destroy":
                if self._set_in_use(name):
                    self._fail(args, f"Set {name} in use")
                self.sets.discard(name)
            elif verb == "swap":
                self.sets.add(line.split()[2])

    def _set_in_use(self, name):
        return any(
            f"--match-set {name} " in r
            for rs in self.chains.values()
            for r in rs
        )

    # -- what tests look at ------------------------------------------------

    def save(self) -> str:
        """iptables-save's text, chains in name order (so that two
        histories reaching the same rules print the same)."""
        names = sorted(self.chains)
        heads = [
            f":{c} ACCEPT [0:0]" if c in BUILTIN else f":{c} - [0:0]"
            for c in names
        ]
        rules = [r for c in names for r in self.chains[c]]
        return "\n".join(["*filter", *heads, *rules, "COMMIT"]) + "\n"

    def state(self) -> tuple:
        return self.save(), frozenset(self.sets)
