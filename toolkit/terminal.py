"""Output for a terminal: whether to colour, styled text, plain-text tables and the progress line.

The one module that imports rich (``tests/test_architecture.py`` checks it), so that every command
decides about colour the same way and draws tables and progress the same way:

- :func:`wants_color`: an explicit ``--color``/``--no-color`` first; then ``NO_COLOR`` (set and not
  empty: no colour, https://no-color.org); then ``FORCE_COLOR`` (set and not empty: colour even into
  a pipe or a file, https://force-color.org); then whether the stream is a terminal (not a dumb one);
- :func:`paint`: a text with ANSI styles (``"bold red"``, ``"strike red"``, ``"underline green"``);
- :func:`table`: rows as aligned columns of plain text (styled cells when colour is on), the same
  bytes on any terminal width, since reports are compared and saved;
- :class:`ProgressLine`: one line on standard error that rewrites itself (records, rate, elapsed time).

Renderers take a ``color`` flag and return strings; only the command line writes them.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

#: Wide enough that no report line is ever wrapped: reports are the same bytes on every terminal.
_WIDTH = 100_000


def wants_color(stream: Any, flag: bool | None = None, environ: Mapping[str, str] | None = None) -> bool:
    """Whether output written to ``stream`` is styled.

    Args:
        stream: where the output goes (``sys.stdout``, ``sys.stderr``).
        flag: an explicit choice (``--color`` True, ``--no-color`` False), which wins.
        environ: the environment (default: ``os.environ``).
    """
    if flag is not None:
        return flag
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR", ""):
        return False
    if env.get("FORCE_COLOR", ""):
        return True
    try:
        tty = bool(getattr(stream, "isatty", lambda: False)())
    except ValueError:  # a closed stream
        return False
    return tty and env.get("TERM", "").lower() not in ("dumb", "unknown")


def _console(color: bool) -> Console:
    return Console(file=io.StringIO(), force_terminal=color, color_system="standard" if color else None,
                   width=_WIDTH, highlight=False, markup=False, emoji=False, soft_wrap=True, no_color=False,
                   legacy_windows=False)


_STYLED = _console(True)


def paint(text: str, style: str, color: bool = True) -> str:
    """``text`` with an ANSI style (``"bold red"``); unchanged when ``color`` is False or ``text`` empty."""
    if not color or not text or not style:
        return text
    with _STYLED.capture() as captured:
        _STYLED.print(Text(text, style=style), end="")
    return captured.get()


Cell = str | tuple[str, str]  # a text, or (text, style)


def table(rows: Iterable[Sequence[Cell]], columns: Sequence[tuple[str, str]], *, header: bool = True,
          indent: int = 2, color: bool = False) -> list[str]:
    """Rows as aligned lines of text.

    Args:
        rows: the cells of each row: a text, or (text, style) for a styled cell.
        columns: (heading, ``left`` or ``right``) of each column.
        header: print the headings as the first line.
        indent: spaces before each line.
        color: apply the cells' styles.

    Returns:
        The lines, without trailing white space.
    """
    grid = Table(box=None, show_header=header, header_style="", pad_edge=False, padding=(0, 2, 0, 0),
                 show_edge=False, expand=False)
    for heading, justify in columns:
        grid.add_column(heading, justify="right" if justify == "right" else "left", no_wrap=True)
    justify = ["right" if j == "right" else "left" for _h, j in columns]
    for row in rows:
        cells = []
        for i, c in enumerate(row):
            cell = Text(c[0] if isinstance(c, tuple) else c, justify=justify[i])  # type: ignore[arg-type]
            if isinstance(c, tuple) and color:
                cell.stylize(c[1])  # the words only, not the padding after them
            cells.append(cell)
        grid.add_row(*cells)
    console = _console(color)
    with console.capture() as captured:
        console.print(grid)
    return [" " * indent + line.rstrip() for line in captured.get().splitlines()]


class ProgressLine:
    """Records checked, their rate and the time elapsed, on one line of a terminal that rewrites itself.

    Drawn at most ten times a second. :meth:`clear` takes the line away before anything else is
    written (it comes back at the next update); :meth:`finish` leaves the last count on a line
    of its own. Nothing is drawn when ``enabled`` is False (standard error is not a terminal, or
    ``--quiet``).
    """

    def __init__(self, enabled: bool, stream: IO[str] | None = None, color: bool = False):
        from rich.progress import Progress, TextColumn, TimeElapsedColumn

        self.enabled = enabled
        self._clock = time.monotonic
        self._start = self._clock()
        self._last = 0.0
        self._records = 0
        self._shown = False
        self._console = Console(file=stream, stderr=stream is None, force_terminal=True, highlight=False,
                                color_system="standard" if color else None)
        # No refresh thread (drawn on update only) and no redirection of sys.stdout and sys.stderr,
        # which the command writes results and messages to itself.
        self._progress = Progress(TextColumn("{task.completed:,.0f} records"),
                                  TextColumn("{task.fields[rate]:,.0f} records/s"), TimeElapsedColumn(),
                                  console=self._console, auto_refresh=False, transient=True,
                                  redirect_stdout=False, redirect_stderr=False)
        self._task = self._progress.add_task("check", total=None, rate=0.0)

    def update(self, records: int) -> None:
        self._records = records
        if not self.enabled:
            return
        now = self._clock()
        if now - self._last < 0.1:
            return
        self._last = now
        self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = now - self._start
        self._progress.update(self._task, completed=self._records,
                              rate=self._records / elapsed if elapsed > 0 else 0.0)
        if not self._shown:
            self._progress.start()
            self._shown = True
        self._progress.refresh()

    def clear(self) -> None:
        if self._shown:
            self._progress.stop()  # transient: the line is erased
            self._shown = False

    def finish(self) -> None:
        if self.enabled and self._records:
            self._draw(self._clock())
            self._progress.live.transient = False  # the last count stays, on its own line
            self._progress.stop()
            self._shown = False
