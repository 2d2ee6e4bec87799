"""``.. state-machine:: NAME`` renders a table of ``arame.common.states``.

The tables in the code are the truth (every status update uses them as its
WHERE clause); the documentation reads them at build time so that it cannot
say otherwise. ``NAME`` is a module attribute holding a ``StateMachine``
(``INSTANCE``, ``VOLUME``...). ``.. state-tasks:: INSTANCE_TASKS`` renders
a task table (action, accepted from, held while running, lands in);
``RECORD_TASKS.volume`` picks one table out of a dict.
"""

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList

from arame.common import states


def _table(header, rows):
    lines = [".. list-table::", "   :header-rows: 1", "   :widths: auto", ""]
    for row in [header] + rows:
        lines.append("   * - " + (row[0] or "\\-"))
        lines.extend("     - " + (cell or "\\-") for cell in row[1:])
    return lines


def _states(names, keep_order=False):
    """A set of states sorted; a sequence (a task's busy states, in the
    order it goes through them) as it is."""
    return ", ".join(
        f"``{n}``" for n in (names if keep_order else sorted(names))
    )


class _Generated(Directive):
    required_arguments = 1

    def _render(self, lines):
        node = nodes.section()
        node.document = self.state.document
        source = StringList(lines, source="arame.common.states")
        self.state.nested_parse(source, self.content_offset, node)
        return node.children

    def _attr(self):
        # NAME, or NAME.key for a table held in a dict (RECORD_TASKS.volume).
        name, *keys = self.arguments[0].split(".")
        if not hasattr(states, name):
            raise self.error(f"arame.common.states has no {name}")
        value = getattr(states, name)
        for key in keys:
            if key not in value:
                raise self.error(f"arame.common.states.{name} has no {key}")
            value = value[key]
        return value


class StateMachineDirective(_Generated):
    def run(self):
        machine = self._attr()
        rows = []
        for src in machine.states:
            mark = []
            if src == machine.initial:
                mark.append("initial")
            if src in machine.final:
                mark.append("final")
            label = f"``{src}``" + (f" ({', '.join(mark)})" if mark else "")
            rows.append([label, _states(machine.targets(src))])
        return self._render(_table(["from", "may go to"], rows))


class StateTasksDirective(_Generated):
    def run(self):
        table = self._attr()
        # No source state: a create starts a new record, any other action
        # (a delete) is accepted in every state.
        rows = [
            [
                f"``{action}``",
                _states(t.src)
                or ("(new record)" if action == "create" else "(any state)"),
                _states(t.busy, keep_order=True),
                f"``{t.final}``",
            ]
            for action, t in table.items()
        ]
        return self._render(
            _table(
                ["action", "accepted from", "held while it runs", "lands in"],
                rows,
            )
        )


def setup(app):
    app.add_directive("state-machine", StateMachineDirective)
    app.add_directive("state-tasks", StateTasksDirective)
    return {"parallel_read_safe": True, "version": "1"}
