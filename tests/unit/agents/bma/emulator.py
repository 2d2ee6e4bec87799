"""A stand-in for `ipmitool ... raw` behind arame.common.runner.run: one
BMC in memory answering the chassis requests the ipmitool driver sends,
with the messages and exit codes ipmitool 1.8.19 gives against
virtualbmc on these machines. Records every command line, and what the
password file held, and its mode, at the moment of each call.
"""

import dataclasses
import os
import stat

from arame.common import runner

RAKP_BAD_HMAC = (
    "Loading IANA PEN Registry...\n"
    "Using best available cipher suite 3\n\n"
    "> RAKP 2 HMAC is invalid\n"
    "Error: Unable to establish IPMI v2 / RMCP+ session\n"
)
NO_ANSWER = (
    "Loading IANA PEN Registry...\n"
    "Get Auth Capabilities error\n"
    "Error issuing Get Channel Authentication Capabilities request\n"
    "Error: Unable to establish IPMI v2 / RMCP+ session\n"
)


@dataclasses.dataclass
class Call:
    args: list[str]
    timeout: float
    secrets: list[str]
    password: str | None  # content of the -f file during the call
    password_mode: int | None


class IpmitoolEmulator:
    def __init__(self, password: str = "s3cret-pw"):
        self.password = password
        self.power_on = False
        self.boot_flags = [0, 0, 0, 0, 0]  # parameter 5 data
        self.valid_bit_clearing = None  # parameter 3 data
        self.calls: list[Call] = []
        self.unreachable = False
        self.hang = False  # the runner's timeout fires
        self.busy = 0  # answers "node busy" n times
        self.refuse = None  # completion code for everything

    # -- runner.run ----------------------------------------------------------
    def run(self, args, *, timeout=runner.DEFAULT_TIMEOUT, secrets=(), **kw):
        args = [str(a) for a in args]
        path = args[args.index("-f") + 1] if "-f" in args else None
        content = mode = None
        if path and os.path.exists(path):
            with open(path) as f:
                content = f.read()
            mode = stat.S_IMODE(os.stat(path).st_mode)
        self.calls.append(Call(args, timeout, list(secrets), content, mode))
        if self.hang:
            raise runner.CommandTimeout(args, f"timed out after {timeout:g}s")
        if self.unreachable:
            self._fail(args, NO_ANSWER)
        if content != self.password:
            self._fail(args, RAKP_BAD_HMAC)
        raw = args[args.index("raw") + 1 :]
        netfn, cmd, *data = (int(x, 16) for x in raw)
        if self.busy:
            self.busy -= 1
            return self._cc(args, netfn, cmd, 0xC0, "Node busy")
        if self.refuse is not None:
            return self._cc(args, netfn, cmd, self.refuse, "Invalid command")
        return runner.Result(args, 0, self._answer(netfn, cmd, data), "")

    @staticmethod
    def _fail(args, stderr):
        raise runner.CommandError(
            args, f"exit 1: {stderr}", exit_code=1, stderr=stderr
        )

    def _cc(self, args, netfn, cmd, cc, text):
        self._fail(
            args,
            f"Unable to send RAW command (channel=0x0 "
            f"netfn=0x{netfn:x} lun=0x0 cmd=0x{cmd:x} "
            f"rsp=0x{cc:x}): {text}\n",
        )

    def _answer(self, netfn, cmd, data) -> str:
        assert netfn == 0, "only chassis requests are expected"
        if cmd == 0x01:  # get chassis status
            return f" {int(self.power_on):02x} 00 00\n"
        if cmd == 0x02:  # chassis control
            if data[0] == 0x01:
                self.power_on = True
            elif data[0] in (0x00, 0x05):
                self.power_on = False
            return "\n"
        if cmd == 0x08:  # set system boot options
            if data[0] & 0x7F == 3:
                self.valid_bit_clearing = data[1:]
            elif data[0] & 0x7F == 5:
                self.boot_flags = data[1:]
            return "\n"
        if cmd == 0x09:  # get system boot options (parameter 5)
            return (
                " "
                + " ".join(f"{b:02x}" for b in [1, 5] + self.boot_flags)
                + "\n"
            )
        raise AssertionError(f"unexpected command {cmd:#x}")
