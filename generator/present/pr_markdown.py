"""A ChangeSet as a pull-request comment (or body): GitHub-flavoured Markdown that fits.   (pure)

The markdown is what a reviewer reads on GitHub: one summary line, a table of
the models that changed with their source ``repo@sha`` and team, then per model
a folded ``<details>`` with one ``diff`` block per file. It never exceeds
``limit`` (GitHub's 65,535 characters for a comment or pull-request body,
counted here in UTF-8 bytes so that no way of counting can exceed it): when
the diffs do not fit, every model's diff is cut to a fair share of the room
left, with a note naming the file that holds the full diff.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from generator import index
from generator.changeset import KEPT, REJECTED, REMOVED, ChangeSet, FileChange, ModelChange
from generator.findings import printable, printable_lines
from generator.present import markdown as md
from generator.present.change_views import (
    environment_line,
    file_diff,
    shown_environments,
    summary,
)
from generator.wording import plural

LIMIT = 65_535


def size(text: str) -> int:
    return len(text.encode("utf-8"))


@dataclass(frozen=True)
class Markdown:
    text: str
    truncated: bool


@dataclass(frozen=True)
class _Block:
    """One fenced block of a model's section: its errors, or one file's diff."""

    lang: str
    lines: tuple[str, ...]

    @property
    def fence(self) -> str:
        longest = max(
            (len(run) for line in self.lines for run in re.findall("`+", line)), default=0
        )
        return "`" * max(3, longest + 1)

    def render(self, lines: Sequence[str]) -> str:
        return f"{self.fence}{self.lang}\n{''.join(lines)}{self.fence}\n"


@dataclass(frozen=True)
class _Section:
    head: str
    blocks: tuple[_Block, ...]
    tail: str = "</details>\n\n"

    @property
    def line_count(self) -> int:
        return sum(len(block.lines) for block in self.blocks)

    def full(self) -> str:
        return self.head + "".join(block.render(block.lines) for block in self.blocks) + self.tail

    def within(self, room: int, note: _Note) -> str:
        """The section cut to at most ``room`` bytes when it can be, with ``note`` telling so."""
        whole = self.full()
        if size(whole) <= room:
            return whole
        total = self.line_count
        budget = room - size(self.head) - size(self.tail) - size(note.text(total, total))
        parts: list[str] = []
        shown = 0
        for block in self.blocks:
            opening = f"{block.fence}{block.lang}\n"
            closing = f"{block.fence}\n"
            if budget < size(opening) + size(closing) + 1:
                break
            budget -= size(opening) + size(closing)
            taken: list[str] = []
            for line in block.lines:
                if size(line) > budget:
                    break
                taken.append(line)
                budget -= size(line)
            if not taken:
                budget += size(opening) + size(closing)
                break
            parts.append(block.render(taken))
            shown += len(taken)
            if len(taken) < len(block.lines):
                break
        return self.head + "".join(parts) + note.text(shown, total) + self.tail


def _full_diff_at(full_diff_name: str | None) -> str:
    """Where a reader finds the whole diff: the file written, or the command that prints it
    (a read-only ``diff`` writes a file only when asked)."""
    if full_diff_name is None:
        return "`modelship diff` prints the full diff"
    return f"the full diff is in `{full_diff_name}`"


@dataclass(frozen=True)
class _Note:
    full_diff_name: str | None

    def text(self, shown: int, total: int) -> str:
        where = _full_diff_at(self.full_diff_name)
        return (
            f"\n_Cut to fit GitHub's size limit: {shown:,} of {total:,} lines shown. "
            f"{where[0].upper()}{where[1:]}._\n\n"
        )


def markdown(
    changes: ChangeSet,
    *,
    title: str = "Modelship",  # markdown, as written
    notes: Sequence[str] = (),
    full_diff_name: str | None = "modelship.diff",  # None: no file is written
    limit: int = LIMIT,
) -> Markdown:
    note = _Note(full_diff_name)
    head = _head(changes, title, notes)
    sections = [_model_section(m) for m in changes.changed_models if m.files or m.errors]
    shared = _shared_section(changes.shared)
    if shared is not None:
        sections.append(shared)
    whole = head + "".join(s.full() for s in sections)
    if size(whole) <= limit:
        return Markdown(whole, truncated=False)

    footer = (
        f"---\n_This comment was shortened to fit the limit of {limit:,} characters; "
        f"{_full_diff_at(full_diff_name)}._\n"
    )
    head = _head(changes, title, notes, room=limit - size(footer) - 200)
    room = limit - size(head) - size(footer)
    body = _fit(sections, room, note)
    return Markdown(head + body + footer, truncated=True)


def _fit(sections: list[_Section], room: int, note: _Note) -> str:
    """Every section within ``room`` bytes: each at most an equal share of what the
    smaller ones leave (found by bisection), or, when not even the folded summaries
    fit, as many summaries as fit and a count of the rest."""
    minimal = [s.within(0, note) for s in sections]
    if sum(size(m) for m in minimal) > room:
        kept: list[str] = []
        used = 0
        for position, rendered in enumerate(minimal):
            rest = f"_… and {len(minimal) - position:,} more models; see the full diff._\n\n"
            if used + size(rendered) + size(rest) > room:
                return "".join(kept) + rest
            kept.append(rendered)
            used += size(rendered)
        return "".join(kept)

    def total(cap: int) -> int:
        return sum(size(s.within(cap, note)) for s in sections)

    low, high = 0, max(size(s.full()) for s in sections)
    while low < high:
        middle = (low + high + 1) // 2
        if total(middle) <= room:
            low = middle
        else:
            high = middle - 1
    return "".join(s.within(low, note) for s in sections)


def _head(changes: ChangeSet, title: str, notes: Sequence[str], room: int | None = None) -> str:
    lines = [f"### {title}: {summary(changes)}", ""]
    for position, note in enumerate(notes):
        if position == 0:
            lines.append("> [!WARNING]")
        else:
            lines.append(">")
        lines.append(f"> {md.text(note)}")
    if notes:
        lines.append("")
    rows = [
        f"| {m.kind} | {md.code(m.id, in_table=True)} | "
        f"{md.code(m.source, in_table=True)} | {md.text(m.team)} | "
        f"{md.text('; '.join(environment_line(e) for e in shown_environments(m)))} |"
        for m in changes.changed_models
    ]
    table_head = [
        "| change | model | source | team | environments |",
        "|---|---|---|---|---|",
    ]
    rendered = "\n".join(lines) + "\n"
    if rows:
        table = [*table_head, *rows]
        if room is not None:
            table = _cut_table(table_head, rows, room - size(rendered))
        rendered += "\n".join(table) + "\n\n"
    return rendered


def _cut_table(table_head: list[str], rows: list[str], room: int) -> list[str]:
    table = list(table_head)
    used = sum(size(line) + 1 for line in table)
    for position, row in enumerate(rows):
        rest = f"| … | {len(rows) - position:,} more models | | | |"
        if used + size(row) + 1 + size(rest) + 1 > room:
            return [*table, rest]
        table.append(row)
        used += size(row) + 1
    return table


def _model_section(model: ModelChange) -> _Section:
    blocks: list[_Block] = []
    if model.errors:
        blocks.append(_Block("text", tuple(f"{printable(error)}\n" for error in model.errors)))
    if model.kind == REMOVED:  # the content of files that go is noise: name them
        blocks.append(_Block("text", tuple(f"deleted {printable(f.path)}\n" for f in model.files)))
    else:
        blocks.extend(_diff_block(change) for change in model.files)
    details = [f"{model.kind}"]
    if model.errors:
        details.append(plural(len(model.errors), "error"))
    details.append(plural(len(model.files), "file"))
    shown_id = html.escape(printable(model.id))
    head = f"<details>\n<summary><code>{shown_id}</code> {', '.join(details)}</summary>\n\n"
    if model.kind == KEPT:
        head += (
            f"Its repository {md.code(model.repo)} failed, so the version from "
            f"{md.code(model.source)} stays deployed.\n\n"
        )
    elif model.kind == REJECTED:
        head += (
            f"The new model of {md.code(model.source)} has errors, so it is deployed "
            "nowhere; it is rendered once its repository fixes them.\n\n"
        )
    return _Section(head, tuple(blocks))


def _shared_section(changes: Sequence[FileChange]) -> _Section | None:
    """Files no model owns. index.json is left out: the table above says what changed in it,
    and its diff is in the full diff."""
    shown = [c for c in changes if c.path != index.INDEX_PATH]
    if not shown:
        return None
    head = f"<details>\n<summary>shared files, {plural(len(shown), 'file')}</summary>\n\n"
    return _Section(head, tuple(_diff_block(change) for change in shown))


def _diff_block(change: FileChange) -> _Block:
    return _Block("diff", tuple(printable_lines(file_diff(change)).splitlines(keepends=True)))
