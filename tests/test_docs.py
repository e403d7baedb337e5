"""The documentation cannot drift from the code: every console output shown in README.md and
docs/*.md is what its command prints now, every ``ivr311`` command they show parses, and every
relative link points to a file (and heading) that exists.

How a page shows output so that it is checked:

- ``<!-- output of: CMD -->`` on the line before a fenced block: the block is what CMD prints,
  its standard output when it exits 0 (progress and notes on stderr are not shown), its standard
  error when it exits 2 (a mistake the user can fix: one line per problem).
- A fenced ``console`` block is a session: ``$ CMD`` lines (a trailing backslash continues a
  command), each followed by what it prints (the same rule), run in order in one folder.
- ``<!-- file: NAME -->`` before a fenced block writes the block to NAME for the commands after it
  on that page that name it (a bad scenario, say, and then its error message).
- In a shown output, a line ``...`` alone stands for any number of lines (an abridged table).
- ``<!-- quotes: CMD => "FRAGMENT" "FRAGMENT" -->`` before a paragraph (or list item) that states
  figures a command prints: each fragment is in CMD's output, and every number in a fragment is
  in the paragraph, so neither the prose nor the output can drift alone. README.md shows every
  output it states this way or in a block (``test_every_figure_the_readme_states_is_checked``).

Commands run through ``/bin/sh`` in a fresh folder holding a copy of ``scenarios/`` and
``app.py`` and a link ``.venv`` to this virtual environment, whose ``bin`` comes first on PATH,
with a clean environment (no ``TWILIO_*``): the voice app's database, key file and journal are
set inside that folder, so nothing is written anywhere else. The same command on the same files
runs once for every block that shows it. A block that runs one of the ``SLOW`` commands is
marked ``slow``.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest

from queueing.cli import main as ivr311


def _root() -> Path:
    here = Path(__file__).resolve().parent
    while not (here / "pyproject.toml").exists():
        here = here.parent
    return here


ROOT = _root()
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Subcommands that take more than a few seconds: a block running one is marked slow.
SLOW = {"staff", "roster", "compare", "sweep", "callers", "analytic"}
TIMEOUT_S = 900

FENCE = re.compile(r"^(```+|~~~+)\s*([\w-]*)")
QUOTES = re.compile(r"^<!--\s*quotes:\s*(.+?)\s*=>\s*(.+?)\s*-->$")
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
DIRECTIVE = re.compile(r"^<!--\s*(output of|file):\s*(.+?)\s*-->$")


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: list[str]
    directive: tuple[str, str] | None  # ("output of", CMD) or ("file", NAME)
    files: tuple[tuple[str, str], ...] = ()  # files of earlier blocks of the page its commands name
    steps: list[tuple[str, list[str]]] = field(default_factory=list)  # (command, shown output)

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def fenced_blocks(page: Path) -> list[Block]:
    """Every fenced block of a page, with the directive comment just before it, if any."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang = m.group(1), m.group(2)
        j = i + 1
        while j < len(lines) and not lines[j].startswith(fence):
            j += 1
        prev = next((lines[k].strip() for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        d = DIRECTIVE.match(prev)
        blocks.append(Block(page, i + 1, lang, lines[i + 1 : j], (d.group(1), d.group(2)) if d else None))
        i = j + 1
    return blocks


def session_steps(text: list[str]) -> list[tuple[str, list[str]]]:
    """``$ CMD`` lines (backslash continuations joined) and the lines each prints."""
    steps: list[tuple[str, list[str]]] = []
    lines = iter(text)
    for line in lines:
        if line.startswith("$ "):
            cmd = line[2:]
            while cmd.endswith("\\"):
                cmd = cmd[:-1] + " " + next(lines).strip()
            steps.append((cmd, []))
        elif steps:
            steps[-1][1].append(line)
        else:
            raise ValueError(f"console block starts with output, not with '$ CMD': {line!r}")
    return steps


def checked_blocks() -> list[Block]:
    """The blocks whose output is checked, each with the files written before it on its page."""
    out: list[Block] = []
    for page in PAGES:
        files: dict[str, str] = {}
        for b in fenced_blocks(page):
            if b.directive and b.directive[0] == "file":
                files[b.directive[1]] = "\n".join(b.text) + "\n"
                continue
            if b.directive and b.directive[0] == "output of":
                b.steps = [(b.directive[1], b.text)]
            elif b.lang == "console":
                b.steps = session_steps(b.text)
            else:
                continue
            b.files = tuple(sorted((n, t) for n, t in files.items() if any(n in cmd for cmd, _ in b.steps)))
            out.append(b)
    return out


def command_words(cmd: str) -> list[str]:
    """The words of a shell command, without the ``VAR=value`` settings before it."""
    words = shlex.split(cmd, comments=True)
    while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
        words.pop(0)
    return words


def subcommand(cmd: str) -> str:
    """``simulate`` for ``ivr311 simulate ...``; empty for any other program."""
    words = command_words(cmd)
    return words[1] if len(words) > 1 and words[0].endswith("ivr311") else ""


def workdir_for(tmp: Path, files: tuple[tuple[str, str], ...]) -> Path:
    work = tmp / "work"
    work.mkdir()
    shutil.copytree(ROOT / "scenarios", work / "scenarios")
    shutil.copy(ROOT / "app.py", work / "app.py")
    (work / ".venv").symlink_to(sys.prefix)
    for name, text in files:
        (work / name).write_text(text, encoding="utf-8")
    return work


def environment(work: Path) -> dict[str, str]:
    return {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/local/bin{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(work),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "COLUMNS": "80",
        "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
        "IVR311_DATABASE_URL": f"sqlite:///{work}/instance/ivr311.sqlite3",
        "IVR311_CALLER_HASH_KEY_FILE": str(work / "instance" / "caller-hash.key"),
        "IVR311_JOURNAL_DIR": str(work / "instance" / "journal"),
    }


@dataclass(frozen=True)
class Run:
    cmd: str
    status: int
    stdout: str
    stderr: str

    @property
    def shown(self) -> list[str]:
        """What the docs show: stdout when the command succeeded, stderr when it refused."""
        return lines_of(self.stdout if self.status == 0 else self.stderr)


def lines_of(text: str | list[str]) -> list[str]:
    lines = [line.rstrip() for line in (text.splitlines() if isinstance(text, str) else text)]
    while lines and not lines[-1]:
        lines.pop()
    return lines


_runs: dict[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], list[Run]] = {}


def run_steps(cmds: tuple[str, ...], files: tuple[tuple[str, str], ...], tmp: Path) -> list[Run]:
    """Run commands in order in one fresh folder; the same commands on the same files run once."""
    key = (cmds, files)
    if key not in _runs:
        work = workdir_for(tmp, files)
        env = environment(work)
        runs = []
        for cmd in cmds:
            p = subprocess.run(
                cmd,
                shell=True,
                cwd=work,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
                check=False,
            )
            runs.append(Run(cmd, p.returncode, p.stdout, p.stderr))
            if p.returncode not in (0, 2):
                break
        _runs[key] = runs
    return _runs[key]


def matches(shown: list[str], actual: list[str]) -> bool:
    """``shown`` equals ``actual``, a line ``...`` in ``shown`` standing for any number of lines."""

    @functools.cache
    def m(i: int, j: int) -> bool:
        if i == len(shown):
            return j == len(actual)
        if shown[i] == "...":
            return any(m(i + 1, k) for k in range(j, len(actual) + 1))
        return j < len(actual) and shown[i] == actual[j] and m(i + 1, j + 1)

    return m(0, 0)


def _param(b: Block) -> object:
    slow = any(subcommand(cmd) in SLOW for cmd, _ in b.steps)
    return pytest.param(b, id=b.name, marks=[pytest.mark.slow] if slow else [])


CHECKED = checked_blocks()


def test_the_docs_show_output():
    """The convention is in use (a parser that found nothing would check nothing)."""
    assert len(CHECKED) >= 5
    assert any(b.page.name == "README.md" for b in CHECKED)


@pytest.mark.parametrize("block", [_param(b) for b in CHECKED])
def test_shown_output_is_what_the_command_prints(block: Block, tmp_path: Path) -> None:
    runs = run_steps(tuple(cmd for cmd, _ in block.steps), block.files, tmp_path)
    for (cmd, shown), run in zip(block.steps, runs, strict=False):
        assert run.status in (0, 2), f"{block.name}: `{cmd}` exited {run.status}:\n{run.stderr}"
        assert "Traceback" not in run.stderr, f"{block.name}: `{cmd}`:\n{run.stderr}"
        actual = run.shown
        if not matches(lines_of(shown), actual):
            diff = "\n".join(difflib.unified_diff(lines_of(shown), actual, "shown in the docs", "printed", lineterm=""))
            pytest.fail(f"{block.name}: `{cmd}` prints something else than the docs show:\n{diff}")
    assert len(runs) == len(block.steps)


# --- figures stated in prose ------------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    page: Path
    line: int  # 1-based line of the comment
    cmd: str
    fragments: tuple[str, ...]
    paragraph: str  # the lines after the comment up to a blank line

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def quotes(page: Path) -> list[Quote]:
    """Every ``quotes:`` comment of a page, outside fenced blocks, with the paragraph (or list item)
    after it."""
    lines = page.read_text(encoding="utf-8").splitlines()
    fenced = {i for b in fenced_blocks(page) for i in range(b.line - 1, b.line + len(b.text) + 1)}
    out = []
    for i, line in enumerate(lines):
        m = QUOTES.match(line.strip())
        if m and i not in fenced:
            j = i + 2
            while j < len(lines) and lines[j].strip() and not lines[j].startswith("- "):  # a list item ends it
                j += 1
            out.append(
                Quote(page, i + 1, m.group(1), tuple(re.findall(r'"([^"]+)"', m.group(2))), "\n".join(lines[i + 1 : j]))
            )
    return out


def _numbers(text: str) -> set[float]:
    return {float(n.replace(",", "")) for n in NUMBER.findall(text)}


QUOTED = [q for page in PAGES for q in quotes(page)]


@pytest.mark.parametrize(
    "quote",
    [pytest.param(q, id=q.name, marks=[pytest.mark.slow] if subcommand(q.cmd) in SLOW else []) for q in QUOTED],
)
def test_quoted_figures_are_what_the_command_prints(quote: Quote, tmp_path: Path) -> None:
    assert quote.fragments, f"{quote.name}: no fragment quoted"
    (run,) = run_steps((quote.cmd,), (), tmp_path)
    assert run.status == 0, f"{quote.name}: `{quote.cmd}` exited {run.status}:\n{run.stderr}"
    printed = " ".join(line.strip() for line in run.stdout.splitlines())
    for fragment in quote.fragments:
        assert fragment in printed, f"{quote.name}: `{quote.cmd}` no longer prints {fragment!r}:\n{run.stdout}"
        missing = _numbers(fragment) - _numbers(quote.paragraph)
        assert not missing, f"{quote.name}: the text does not say {sorted(missing)} of {fragment!r}"


def test_a_quote_must_state_what_it_quotes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    page = tmp_path / "a.md"
    page.write_text(
        '<!-- quotes: ivr311 x => "314.0 paid" "$12,637 a day" -->\nA roster of 314 paid hours, $12,637 a day.\n'
    )
    (q,) = quotes(page)
    assert q.fragments == ("314.0 paid", "$12,637 a day") and q.cmd == "ivr311 x"
    assert _numbers(q.fragments[0]) <= _numbers(q.paragraph) and _numbers("$12,638") - _numbers(q.paragraph)


def test_every_figure_the_readme_states_is_checked() -> None:
    """README.md: every paragraph stating what a command prints is a shown output or quoted.
    Figures of command output in prose (a number followed by what planners read off a run) need a
    ``quotes:`` comment just before their paragraph."""
    readme = ROOT / "README.md"
    quoted = {q.line for q in quotes(readme)}
    text = unfenced(readme).splitlines()
    lines = readme.read_text(encoding="utf-8").splitlines()
    figure = re.compile(r"\d[\d,.]* (agent-hours|agents|paid agent-hours|intervals|of \d+)|\$[\d,]+ a day")
    unchecked = []
    for i, line in enumerate(lines):
        if line not in text or not figure.search(line) or QUOTES.match(line.strip()):
            continue
        start = i
        while (
            start > 0
            and lines[start - 1].strip()
            and not QUOTES.match(lines[start - 1].strip())
            and not lines[start].startswith("- ")  # a list item is a paragraph of its own
        ):
            start -= 1
        if not (start > 0 and start in quoted):  # the comment is on line `start` (1-based: the one before)
            unchecked.append(f"README.md:{i + 1}: {line.strip()}")
    assert not unchecked, "figures stated without a check:\n" + "\n".join(unchecked)


def test_matching_allows_an_abridged_table_and_nothing_else():
    assert matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert matches(["a", "...", "b"], ["a", "b"])
    assert not matches(["a", "...", "d"], ["a", "b", "c", "e"])
    assert not matches(["a", "b"], ["a", "b", "c"])


# --- every ivr311 command the docs show parses ---------------------------------------------

SHELL = {"sh", "shell", "bash", "console"}


def shown_commands() -> list[tuple[str, str]]:
    """(where, command) for every ivr311 command in a shell block or an ``output of`` comment."""
    found: list[tuple[str, str]] = []
    for page in PAGES:
        for b in fenced_blocks(page):
            if b.directive and b.directive[0] == "output of" and subcommand(b.directive[1]):
                found.append((b.name, b.directive[1]))
            if b.lang not in SHELL:
                continue
            cmd = ""
            for line in b.text:
                if b.lang == "console":
                    if not line.startswith("$ ") and not cmd:
                        continue
                    line = line.removeprefix("$ ")
                cmd += line.rstrip()
                if cmd.endswith("\\"):
                    cmd = cmd[:-1] + " "
                    continue
                if subcommand(cmd):
                    found.append((b.name, cmd))
                cmd = ""
    return found


def parse_error(cmd: str) -> str | None:
    """Why click would refuse the words of ``cmd`` (no file is read, no type converted), or None."""
    words = command_words(cmd)
    command: click.Command = ivr311
    ctx = click.Context(ivr311, info_name="ivr311")
    args = words[1:]
    while isinstance(command, click.Group):
        if not args or args[0].startswith("-"):
            return None if args[:1] in (["--help"], ["-h"], ["--version"]) else f"{ctx.command_path}: no subcommand"
        sub = command.get_command(ctx, args[0])
        if sub is None:
            return f"{ctx.command_path}: no command {args[0]!r}"
        ctx = click.Context(sub, info_name=args[0], parent=ctx)
        command, args = sub, args[1:]
    try:
        _, extra, _ = command.make_parser(ctx).parse_args(list(args))
    except click.UsageError as exc:
        return f"{ctx.command_path}: {exc.format_message()}"
    if extra and not command.allow_extra_args:
        return f"{ctx.command_path}: unexpected argument(s) {extra}"
    return None


def test_every_ivr311_command_shown_parses():
    commands = shown_commands()
    assert len(commands) >= 20
    bad = [f"{where}: `{cmd}`: {err}" for where, cmd in commands if (err := parse_error(cmd))]
    assert not bad, "\n".join(bad)


def test_a_command_with_an_option_it_lacks_does_not_parse():
    assert parse_error("ivr311 simulate scenarios/baseline.yaml --jobs 2") is None
    assert parse_error("ivr311 calls export --since 24h") is None
    assert "--lang" in (parse_error("ivr311 dial --lang es") or "")
    assert parse_error("ivr311 simulate a.yaml b.yaml") is not None
    assert parse_error("ivr311 simulat a.yaml") is not None


# --- every relative link resolves ------------------------------------------------------------

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|^\[[^\]]+\]:\s*(\S+)", re.M)


def unfenced(page: Path) -> str:
    """The page without its fenced blocks."""
    return re.sub(r"^(```+|~~~+).*?^\1[^\n]*$", "", page.read_text(encoding="utf-8"), flags=re.M | re.S)


def prose(page: Path) -> str:
    """The page without its fenced blocks and inline code (links there are not links)."""
    return re.sub(r"`[^`\n]*`", "", unfenced(page))


def anchors(page: Path) -> set[str]:
    """The heading anchors GitHub makes: lower case, punctuation dropped, spaces to hyphens."""
    seen: dict[str, int] = {}
    out = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", unfenced(page), flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def broken_links(page: Path) -> list[str]:
    bad = []
    for m in LINK.finditer(prose(page)):
        target = m.group(1) or m.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            bad.append(f"{page.relative_to(ROOT)}: {target}: no such file")
        elif not dest.resolve().is_relative_to(ROOT):
            bad.append(f"{page.relative_to(ROOT)}: {target}: outside the project")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            bad.append(f"{page.relative_to(ROOT)}: {target}: no heading #{anchor} in {dest.name}")
    return bad


def test_every_relative_link_points_to_an_existing_file_and_heading():
    bad = [problem for page in PAGES for problem in broken_links(page)]
    assert not bad, "\n".join(bad)


def test_a_link_to_a_missing_file_or_heading_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "a.md").write_text("# Top\n\n[ok](a.md#top) [gone](b.md) [no](a.md#nowhere) `[code](c.md)`\n")
    assert broken_links(tmp_path / "a.md") == [
        "a.md: b.md: no such file",
        "a.md: a.md#nowhere: no heading #nowhere in a.md",
    ]
