"""`report.html` and `report/`: the batch as an index page and one page per call (`check --html`).

No network: the CSS and the SVG charts are inline, there is no script, and a
Content-Security-Policy forbids loading anything (a call's page may load its
recording, and nothing else). The templates (templates/) autoescape every
value, so a call's words, ids and file names are shown as text, never read as
markup. The review app (`etiquette review`) renders the same call template.

The index (`report.html`): the batch summary (calls, verdicts, findings per
check and language), the per-agent and per-team tables, the calls worst first,
each a link to its page: the worst INDEX_ROWS there, the rest INDEX_ROWS a page
in `report/calls-2.html`, `-3`... (a browser lays out 500 rows at once, and
10,000 in seconds). A call's page (`report/<name>.html`, written as the
call finishes): its recording (a player for the whole call and one starting at
each finding, by a relative path, so the folder can be moved with the
recordings beside it), a timeline with one lane per speaker and the findings
marked on it, the agent's speaking rate against the threshold (the series the
rate check measured), the findings, and the transcript with each finding's
words highlighted. A batch of 10,000 calls is an index a browser opens at once,
19 list pages and 10,000 small pages, instead of one page no browser can open.

Elements tests and scripts can find: each finding is `[data-finding="CALL#N"]`
(N its index in the report), its mark on the timeline `[data-finding-marker]`,
its words in the transcript `[data-findings~="CALL#N"]`; each call section is
`[data-call-id]`, each index row `[data-summary-call]`, and the summary numbers
carry `data-stat` and `data-count`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import islice
from importlib.resources import files
from pathlib import Path
from urllib.request import pathname2url

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from etiquette import __version__
from etiquette.files import AtomicFile, Spool, atomic_write_text
from etiquette.groups import KINDS
from etiquette.outcome import BatchTotals, CallLine, CallOutcome
from etiquette.printable import encodable, shown
from etiquette.registry import REGISTRY
from etiquette.report import CallReport
from etiquette.types import Verdict
from etiquette.writers import Writer, WriterOptions, register
from etiquette.writers.html import view

ENVIRONMENT = Environment(
    loader=PackageLoader("etiquette.writers.html", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def css() -> str:
    return files("etiquette.writers.html").joinpath("report.css").read_text(encoding="utf-8")


PAGES = "report"  # the folder of the calls' pages, beside report.html
INDEX_ROWS = 500  # calls a list page shows: report.html the worst, report/calls-2.html the next... (a browser
                  # takes seconds to lay out a table of 10,000 rows, and a fraction of one for 500)
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
CALL_CSP = REPORT_CSP + "; media-src 'self'"  # and its recording (a relative path: the same file system or site)


@register
class HtmlWriter(Writer):
    """report.html and report/: an index to review the batch in a browser, and a page per call."""

    name = "html"
    filename = "report.html"

    def __init__(self, options: WriterOptions):
        super().__init__(options)
        self.checks = [(check.name, check.title) for check in REGISTRY]
        self.rows = Spool(options.out_dir)
        self.pages = options.out_dir / PAGES
        self.written: list[Path] = []  # this run's call pages: removed again when the index cannot be written
        self.finished = False

    def add(self, outcome: CallOutcome) -> None:
        report = outcome.report
        if not outcome.checked or report is None:
            return
        line = CallLine.of(outcome)
        page = self.pages / view.page_name(line.call_id)
        row = ENVIRONMENT.get_template("row.html.j2").render(
            line=line, href=f"{PAGES}/{page.name}", length=view.clock(line.duration), checks=[name for name, _ in self.checks])
        self.rows.add(line.badness, row)
        player = static_player(outcome.recording, self.pages, self.options.redacted)
        text = ENVIRONMENT.get_template("call_page.html.j2").render(
            title=f"{report.call_id}: {report.verdict.value}", css=Markup(css()), csp=Markup(CALL_CSP), version=__version__,
            section=Markup(render_call(report, view.anchor_of(line.call_id), player, back=("../report.html", "the batch"))))
        try:
            atomic_write_text(page, text)
        except OSError as error:  # the export is report.html: dropped whole, as the run says
            raise OSError(error.errno, error.strerror, str(self.path)) from None
        self.written.append(page)

    def _list_pages(self, rows, listed: int, common: dict) -> int:
        """report/calls-2.html, -3...: the calls after the index's, INDEX_ROWS a page; returns how many pages
        the list has in all (the index's included). Pages of an earlier, longer list are removed."""
        pages = max(1, -(-listed // INDEX_ROWS))
        for number in range(2, pages + 1):
            chunk = [Markup(row.replace(f'href="{PAGES}/', 'href="')) for row in islice(rows, INDEX_ROWS)]
            page = self.pages / f"calls-{number}.html"
            text = ENVIRONMENT.get_template("calls_page.html.j2").render(
                **common, rows=chunk, listing=Listing(number, pages, INDEX_ROWS, listed, inside=True),
                title=f"etiquette: calls {(number - 1) * INDEX_ROWS + 1} to {min(number * INDEX_ROWS, listed)} of {listed}")
            atomic_write_text(page, text)
            self.written.append(page)
        return pages

    def finish(self, totals: BatchTotals) -> Path:
        failed = totals.verdicts[Verdict.FAIL]
        stats = [
            ("calls", "calls checked", totals.calls, ""),
            ("failed", "failed", failed, "bad" if failed else ""),
            ("passed", "passed", totals.verdicts[Verdict.PASS], "good"),
        ]
        if totals.verdicts[Verdict.INCOMPLETE]:
            stats.append(("incomplete", "incomplete (a check could not run)", totals.verdicts[Verdict.INCOMPLETE], "warn"))
        stats.append(("findings", "findings", totals.findings, ""))
        if totals.failures:
            stats.append(("errors", "could not be processed", len(totals.failures), "bad"))
        common = dict(css=Markup(css()), csp=Markup(REPORT_CSP), version=__version__, checks=self.checks,
                      shorts={check.name: check.short for check in REGISTRY})
        rows = self.rows.in_order()
        first = [Markup(row) for row in islice(rows, INDEX_ROWS)]
        try:
            pages = self._list_pages(rows, len(self.rows), common)
        except OSError as error:  # the export is report.html: dropped whole, as the run says
            raise OSError(error.errno, error.strerror, str(self.path)) from None
        page = ENVIRONMENT.get_template("page.html.j2")
        chunks = page.generate(
            **common,
            title=f"etiquette: {totals.calls} calls, {failed} failed",
            totals=totals,
            generated=datetime.now(timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M"),
            folder=shown(self.options.out_dir.name or self.options.out_dir),
            redacted=self.options.redacted,
            stats=stats,
            languages=sorted(totals.languages),
            rows=first,
            listing=Listing(1, pages, INDEX_ROWS, len(self.rows), inside=False),
            group_tables=[(kind, totals.groups.rows(kind)) for kind in KINDS if totals.groups.rows(kind)],
            page_of=lambda call_id: f"{PAGES}/{view.page_name(call_id)}",
        )
        with AtomicFile(self.path) as out:
            for chunk in chunks:
                out.write(chunk)
        self.finished = True
        number = pages + 1
        while (stale := self.pages / f"calls-{number}.html").exists():  # an earlier run's longer list
            stale.unlink(missing_ok=True)
            number += 1
        return self.path

    def close(self) -> None:
        self.rows.close()
        if not self.finished:  # no index: the pages it would link are not left half a report
            for page in self.written:
                page.unlink(missing_ok=True)


@dataclass(frozen=True)
class Listing:
    """Where a list page of the calls is among them all: its number, their count, the links between them."""

    page: int
    pages: int
    size: int
    total: int  # calls listed
    inside: bool  # a page in report/ (else report.html itself)

    @property
    def first(self) -> int:
        return min((self.page - 1) * self.size + 1, self.total)

    @property
    def last(self) -> int:
        return min(self.page * self.size, self.total)

    def href(self, number: int) -> str:
        if number == 1:
            return "../report.html#calls" if self.inside else "#calls"
        return f"calls-{number}.html" if self.inside else f"{PAGES}/calls-{number}.html"


def static_player(recording: str | None, pages: Path, redacted: bool) -> view.Player:
    """The recording as a static page plays it: a relative URL from the pages' folder (no server)."""
    if recording is None:
        return view.Player(None, "Checked from a transcript alone: there is no recording to play.")
    relative = os.path.relpath(recording, os.path.abspath(pages))
    if not encodable(relative):  # the way there passes a folder whose name is not UTF-8: no URL can say it
        return view.Player(None, f"The recording is at {shown(recording)}; this page cannot link it.")
    note = "The recording itself is not masked." if redacted else ""
    return view.Player(pathname2url(relative), note)


def call_view(report: CallReport, anchor: str) -> dict:
    """What the call template draws (timeline, rate chart, findings, notes, transcript), for a static page or the app."""
    transcript = report.transcript
    duration = view.duration_of(report)
    facts = [transcript.language]
    if report.jurisdiction:
        facts.append(report.jurisdiction)
    if report.metadata is not None:
        facts += [f"{name} {value}" for name, value in (("agent", report.metadata.agent), ("team", report.metadata.team),
                                                          ("started", report.metadata.started_at)) if value]
    facts += [f"{view.clock(duration)} long", f"{len(report.findings)} finding{'s' if len(report.findings) != 1 else ''}",
              f"fails at {report.fail_on.severity.value}"]
    for speaker, metrics in report.result.metrics.speakers.items():
        if "wpm" in metrics:
            facts.append(f"{speaker}: {metrics['wpm']} wpm on average, {metrics.get('max_window_wpm')} at the busiest 30 s")
    has_words = bool(transcript.words)
    notes = [f"{REGISTRY.title(s.check)} was not checked: {s.reason}" for s in report.result.skipped]
    notes += list(report.result.notes)
    findings = report.findings
    return dict(
        report=report,
        verdict=report.verdict.value,
        anchor=anchor,
        facts=facts,
        width=view.VIEW_WIDTH,
        height=view.CHART_HEIGHT,
        lanes=view.lanes(report, duration) if has_words else [],
        marks=view.finding_marks(findings, duration),
        ticks=view.ticks(duration),
        chart=view.rate_chart(report, duration) if has_words else None,
        no_chart=_no_chart(report),
        titles={f.check: REGISTRY.title(f.check) for f in findings},
        clocks=[view.clock(f.start) for f in findings],
        end_clocks=[view.clock(f.end) for f in findings],
        starts=[round(f.start, 2) for f in findings],
        ends=[round(f.end, 2) for f in findings],
        evidence=[view.tokens(f.evidence) for f in findings],
        notes=notes,
        turns=view.transcript_turns(report) if has_words else [],
        word_count=len(transcript.words),
        words=view.words_html,
    )


def render_call(report: CallReport, anchor: str, player: view.Player, back: tuple[str, str]) -> str:
    """One call's section, as a static page shows it: a player for the recording and one at each finding."""
    return ENVIRONMENT.get_template("call.html.j2").render(**call_view(report, anchor), player=player, back=back,
                                                          interactive=False, decision=None)


def _no_chart(report: CallReport) -> str:
    if not report.transcript.has_attribution:
        return "No speaking-rate chart: nobody can tell the agent's words apart (mono recording)."
    if any(s.check == "speaking_rate" for s in report.result.skipped):
        return f"No speaking-rate chart: there are no rules for {report.transcript.language}."
    return "No speaking-rate chart: the agent spoke for less than ten seconds."
