"""Security group rules: Wakame-vdc's text form and the JSON form.

A rule allows inbound traffic to the members of a group; everything else
inbound is denied. One rule per line of text, ``protocol:from,to,source``:

    tcp:22,22,ip4:0.0.0.0/0       # ssh from anywhere
    udp:53,53,ip4:10.0.0.0/8
    icmp:8,-1,ip4:0.0.0.0/0       # icmp type,code; -1 = any
    tcp:3306,3306,sg-3k9x2m0q     # from the members of another group

or as JSON: ``[{"protocol", "from_port", "to_port", "cidr" | "group_id"}]``.
The API stores what either form parses to and returns both; the agent
renders the same `Rule` objects into netfilter.

Choices (the API documents them to users):
- A CIDR with host bits set (``10.0.0.5/8``) is rejected, naming the network
  it would have meant: silently widening or narrowing a firewall rule is worse
  than asking. A bare address is that host (``/32``), except ``0.0.0.0``,
  which Wakame's own examples use for "anywhere" (``/0``).
- Protocol and ``ip4:`` are case-insensitive; output is always lower case.
- Duplicates are dropped, first occurrence kept, so text -> rules -> text
  is stable and the order a user wrote is kept.
"""

import dataclasses
import ipaddress
import re

from arame.common import ids

PROTOCOLS = ("tcp", "udp", "icmp")
MAX_RULES = 100
MAX_LINE_LENGTH = 255
# A comment-heavy text is fine, a megabyte is not.
MAX_TEXT_LENGTH = 64 * 1024

_INT_RE = re.compile(r"-?[0-9]+")
_JSON_KEYS = {"protocol", "from_port", "to_port", "cidr", "group_id"}
_TOO_MANY = f"a security group holds at most {MAX_RULES} rules"


class RuleError(ValueError):
    """A rule is malformed. `reason` is the bare problem; `message` (and
    str()) says where: "line 3, column 5: ..." for text, "rule 2, to_port:
    ..." for JSON. `details()` is what the API puts in its error body."""

    def __init__(
        self,
        reason: str,
        line: int | None = None,
        column: int | None = None,
        *,
        index: int | None = None,
        field: str | None = None,
    ):
        self.reason = reason
        self.line = line
        self.column = column
        self.index = index
        self.field = field
        self.message = self._where() + reason
        super().__init__(self.message)

    def _where(self) -> str:
        if self.line is not None:
            col = f", column {self.column}" if self.column is not None else ""
            return f"line {self.line}{col}: "
        if self.index is not None:
            fld = f", {self.field}" if self.field else ""
            return f"rule {self.index}{fld}: "
        return ""

    def details(self) -> dict:
        keys = (
            ("line", "column") if self.line is not None else ("index", "field")
        )
        return {
            k: getattr(self, k) for k in keys if getattr(self, k) is not None
        }


@dataclasses.dataclass(frozen=True)
class Rule:
    """One inbound allow rule. For icmp, from_port/to_port are the icmp
    type/code, -1 meaning any. Exactly one of cidr and group_id is set.
    Constructing a Rule validates it (RuleError with `field` set) and puts
    the cidr in canonical form."""

    protocol: str
    from_port: int
    to_port: int
    cidr: str | None = None
    group_id: str | None = None

    def __post_init__(self):
        _validate(self)
        if self.cidr is not None:
            object.__setattr__(self, "cidr", _canonical_cidr(self.cidr))

    @property
    def source(self) -> str:
        """The source as written in text: ip4:<cidr> or the group id."""
        return f"ip4:{self.cidr}" if self.cidr is not None else self.group_id

    def to_text(self) -> str:
        return f"{self.protocol}:{self.from_port},{self.to_port},{self.source}"

    def to_dict(self) -> dict:
        d = {
            "protocol": self.protocol,
            "from_port": self.from_port,
            "to_port": self.to_port,
        }
        if self.cidr is not None:
            d["cidr"] = self.cidr
        else:
            d["group_id"] = self.group_id
        return d


def _validate(rule: Rule) -> None:
    def bad(field, reason):
        raise RuleError(reason, field=field)

    if rule.protocol not in PROTOCOLS:
        bad(
            "protocol",
            f"unknown protocol {rule.protocol!r} "
            f"(one of {', '.join(PROTOCOLS)})",
        )
    for field in ("from_port", "to_port"):
        value = getattr(rule, field)
        if not isinstance(value, int) or isinstance(value, bool):
            bad(field, f"{field} must be an integer, not {value!r}")
    if rule.protocol == "icmp":
        for field, what in (("from_port", "type"), ("to_port", "code")):
            value = getattr(rule, field)
            if value != -1 and not 0 <= value <= 255:
                bad(
                    field,
                    f"icmp {what} {value} is out of range "
                    f"(-1 for any, or 0-255)",
                )
        if rule.from_port == -1 and rule.to_port != -1:
            bad(
                "to_port",
                "an icmp code needs an icmp type "
                "(type -1 matches every type and code)",
            )
    else:
        for field in ("from_port", "to_port"):
            value = getattr(rule, field)
            if not 1 <= value <= 65535:
                hint = (
                    " (1,65535 means every port)" if value in (-1, 0) else ""
                )
                bad(field, f"port {value} is out of range 1-65535{hint}")
        if rule.from_port > rule.to_port:
            bad(
                "to_port",
                f"port range {rule.from_port}-{rule.to_port} "
                f"ends before it starts",
            )
    if (rule.cidr is None) == (rule.group_id is None):
        bad("cidr", "give exactly one source: a cidr or a group_id")
    if rule.cidr is not None:
        if not isinstance(rule.cidr, str):
            bad("cidr", f"cidr must be a string, not {rule.cidr!r}")
        _canonical_cidr(rule.cidr)
    elif not ids.is_valid("security_group", rule.group_id):
        bad(
            "group_id",
            f"{rule.group_id!r} is not a security group id "
            f"(sg- and 8 characters of a-z, 0-9)",
        )


def _canonical_cidr(value: str) -> str:
    def bad(reason):
        raise RuleError(reason, field="cidr")

    text = value.strip()
    if not text or not text.isascii() or any(c.isspace() for c in text):
        bad(f"{value!r} is not an IPv4 address or network")
    if "/" not in text:
        # Wakame's examples write ip4:0.0.0.0 for "anywhere".
        text += "/0" if text == "0.0.0.0" else "/32"
    try:
        return str(ipaddress.IPv4Network(text))
    except ipaddress.NetmaskValueError:
        bad(f"{value!r} has a bad prefix length (0-32)")
    except ValueError as e:
        if "host bits set" in str(e):
            net = ipaddress.IPv4Network(text, strict=False)
            bad(
                f"{value} has host bits set: write {net} for the network, "
                f"or {text.split('/')[0]}/32 for the host"
            )
        bad(f"{value!r} is not an IPv4 address or network")
    raise AssertionError("unreachable")


def _span(piece: str, pos: int) -> tuple[str, int]:
    """piece stripped, and the 1-based column of its first character (of
    the piece itself when blank), piece starting at offset pos."""
    text = piece.strip()
    lead = len(piece) - len(piece.lstrip()) if text else 0
    return text, pos + lead + 1


def _split(body: str, start: int) -> list[tuple[str, int]]:
    """body[start:] split on commas, each as a _span."""
    spans = []
    for piece in body[start:].split(","):
        spans.append(_span(piece, start))
        start += len(piece) + 1
    return spans


def _parse_int(text: str, what: str) -> int:
    if not text:
        raise RuleError(f"missing {what}")
    if not _INT_RE.fullmatch(text):
        raise RuleError(f"{what} {text!r} is not a number")
    return int(text)


def _parse_line(body: str) -> Rule:
    """One rule from one line without its comment; RuleError carries only
    a column (the caller adds the line)."""
    first = len(body) - len(body.lstrip()) + 1
    colon = body.find(":")
    if colon < 0:
        raise RuleError(
            "expected protocol:from,to,source (e.g. tcp:22,22,ip4:0.0.0.0/0)",
            column=first,
        )
    proto, proto_col = _span(body[:colon], 0)
    fields = _split(body, colon + 1)
    if len(fields) < 3:
        raise RuleError(
            f"expected from,to,source after {proto}: "
            f"(e.g. {proto or 'tcp'}:22,22,ip4:0.0.0.0/0)",
            column=len(body.rstrip()) + 1,
        )
    if len(fields) > 3:
        raise RuleError(
            f"unexpected {fields[3][0]!r} after the source",
            column=fields[3][1],
        )
    columns = {
        "protocol": proto_col,
        "from_port": fields[0][1],
        "to_port": fields[1][1],
        "cidr": fields[2][1],
        "group_id": fields[2][1],
    }
    what = (
        ("icmp type", "icmp code")
        if proto.lower() == "icmp"
        else ("from port", "to port")
    )
    ports = []
    for (text, col), name in zip(fields[:2], what, strict=False):
        try:
            ports.append(_parse_int(text, name))
        except RuleError as e:
            raise RuleError(e.reason, column=col) from None
    source, source_col = fields[2]
    kw = {}
    if source.lower().startswith("ip4:"):
        cidr, columns["cidr"] = _span(source[4:], source_col + 3)
        if not cidr:
            raise RuleError(
                "missing address after ip4:", column=columns["cidr"]
            )
        kw["cidr"] = cidr
    elif source.startswith("sg-"):
        kw["group_id"] = source
    else:
        raise RuleError(
            f"expected ip4:<cidr> or a security group id (sg-xxxxxxxx), "
            f"got {source!r}"
            if source
            else "missing source (ip4:<cidr> or a security group id)",
            column=source_col,
        )
    try:
        return Rule(proto.lower(), ports[0], ports[1], **kw)
    except RuleError as e:
        raise RuleError(
            e.reason, column=columns[e.field], field=e.field
        ) from None


def parse_text(text: str) -> list[Rule]:
    """Rules from Wakame text; RuleError points at the offending token."""
    if not isinstance(text, str):
        raise RuleError(
            f"rules text must be a string, not {type(text).__name__}"
        )
    if len(text) > MAX_TEXT_LENGTH:
        raise RuleError(
            f"rules text is longer than {MAX_TEXT_LENGTH} characters"
        )
    rules: dict[Rule, None] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if len(line) > MAX_LINE_LENGTH:
            raise RuleError(
                f"line is longer than {MAX_LINE_LENGTH} characters",
                n,
                MAX_LINE_LENGTH + 1,
            )
        body = line.split("#", 1)[0]
        if not body.strip():
            continue
        try:
            rule = _parse_line(body)
        except RuleError as e:
            raise RuleError(e.reason, n, e.column, field=e.field) from None
        if not _add(rules, rule):
            raise RuleError(_TOO_MANY, n, len(body) - len(body.lstrip()) + 1)
    return list(rules)


def from_json(items: list) -> list[Rule]:
    """Rules from the JSON form; RuleError names the rule (1-based) and
    the field."""
    if not isinstance(items, list):
        raise RuleError(f"rules must be a list, not {type(items).__name__}")
    rules: dict[Rule, None] = {}
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise RuleError(
                f"a rule must be an object, not {type(item).__name__}", index=n
            )
        unknown = sorted(set(item) - _JSON_KEYS, key=str)
        if unknown:
            raise RuleError(
                f"unknown field {unknown[0]!r}", index=n, field=str(unknown[0])
            )
        for key in ("protocol", "from_port", "to_port"):
            if key not in item:
                raise RuleError(f"missing {key}", index=n, field=key)
        if "cidr" in item and "group_id" in item:
            raise RuleError(
                "give cidr or group_id, not both", index=n, field="group_id"
            )
        if not isinstance(item["protocol"], str):
            raise RuleError(
                "protocol must be a string", index=n, field="protocol"
            )
        try:
            rule = Rule(
                item["protocol"].lower(),
                item["from_port"],
                item["to_port"],
                item.get("cidr"),
                item.get("group_id"),
            )
        except RuleError as e:
            raise RuleError(e.reason, index=n, field=e.field) from None
        if not _add(rules, rule):
            raise RuleError(_TOO_MANY, index=n)
    return list(rules)


def _add(rules: dict, rule: Rule) -> bool:
    """Add rule unless it is a duplicate; False when it would be one too
    many."""
    if rule not in rules and len(rules) == MAX_RULES:
        return False
    rules.setdefault(rule, None)
    return True


def to_text(rules: list[Rule]) -> str:
    """Canonical text, one rule per line; parse_text() reads it back to the
    same rules."""
    return "".join(r.to_text() + "\n" for r in rules)


def to_json(rules: list[Rule]) -> list[dict]:
    return [r.to_dict() for r in rules]
