"""The batch as one self-contained HTML page (`check --html`): DIR/report.html.

No network: the CSS and the SVG charts are inline, there is no script, and a
Content-Security-Policy forbids loading anything. Every text that comes from a
call (words, evidence, call ids, file names) goes through `html.escape`.

The page: the batch summary (calls, pass/fail, findings per check and language,
the calls worst first), then a section per call: a timeline with one lane per
speaker and the findings marked on it, the agent's speaking rate over the call
against the threshold, the findings (rule, message, evidence, explanation,
citation), and the transcript with each finding's words highlighted.

Elements tests (and scripts) can find: each finding is `[data-finding="CALL#N"]`
(N its index in the report), its mark on the timeline `[data-finding-marker]`,
its words in the transcript `[data-findings~="CALL#N"]`; each call section is
`[data-call-id]`, and the summary numbers carry `data-stat`.
"""

from __future__ import annotations

import html
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

from etiquette import __version__
from etiquette.checks.rate import SpeechClock
from etiquette.errors import EtiquetteError
from etiquette.exports import HTML_NAME, BatchOutput, CallOutput, clock
from etiquette.files import atomic_write_text
from etiquette.redact import is_mask, mask_kind
from etiquette.rulebook import CHECKS, RULES_DIR, RateSettings, load_rules
from etiquette.types import Role, Transcript, Word

VIEW_WIDTH = 1000  # SVG user units across; the charts stretch to the page width
MAX_RATE_POINTS = 400
BLOCK_GAP = 0.8  # seconds of silence that split a speaker's speech into separate blocks on the timeline


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def write_html(batch: BatchOutput, rules_dir: Path | None = None) -> Path:
    """Write DIR/report.html atomically; its path."""
    path = batch.out_dir / HTML_NAME
    atomic_write_text(path, render(batch, rules_dir or RULES_DIR))
    return path


def render(batch: BatchOutput, rules_dir: Path = RULES_DIR) -> str:
    calls = batch.worst_first
    anchors = {id(call): f"call-{n}" for n, call in enumerate(calls, 1)}
    sections = [_call_section(call, anchors[id(call)], rules_dir) for call in calls]
    title = f"etiquette: {len(batch.calls)} calls, {len(batch.failed)} failed"
    generated = datetime.now(timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M")
    redaction = ('<p class="note">Personal data (card, account, id and phone numbers, dates of birth, email '
                 'addresses) is masked in this page.</p>') if batch.redacted else ""
    return "\n".join([
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">",
        '<meta name="referrer" content="no-referrer">',
        f"<title>{esc(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        '<header class="top">',
        f"<h1>etiquette review <span class=\"sub\">{len(batch.calls)} calls</span></h1>",
        f'<p class="meta">Made {esc(generated)} by etiquette {esc(__version__)} from {esc(batch.out_dir.name or batch.out_dir)}.</p>',
        redaction,
        "</header>",
        "<main>",
        _summary(batch, calls, anchors),
        *sections,
        "</main>",
        "</body>",
        "</html>",
        "",
    ])


# ------------------------------------------------------------------ the summary


def _summary(batch: BatchOutput, calls: list[CallOutput], anchors: dict[int, str]) -> str:
    stats = [
        ("calls", "calls checked", len(batch.calls), ""),
        ("failed", "failed", len(batch.failed), "bad" if batch.failed else ""),
        ("passed", "passed", len(batch.calls) - len(batch.failed), "good"),
        ("findings", "findings", batch.findings, ""),
    ]
    if batch.errors:
        stats.append(("errors", "could not be processed", len(batch.errors), "bad"))
    cards = "".join(
        f'<div class="stat {cls}"><span class="n" data-stat="{key}">{value}</span><span class="l">{esc(label)}</span></div>'
        for key, label, value, cls in stats
    )
    parts = ['<section id="summary" class="summary">', "<h2>Summary</h2>", f'<div class="stats">{cards}</div>']

    languages = batch.languages()
    if batch.calls:
        counts = batch.by_check_and_language()
        head = "".join(f'<th class="num">{esc(language)}</th>' for language in languages)
        rows = []
        for check in CHECKS:
            cells = "".join(
                f'<td class="num" data-count="{esc(check)}:{esc(language)}">{counts.get((check, language), 0)}</td>'
                for language in languages
            )
            total = sum(counts.get((check, language), 0) for language in languages)
            rows.append(f'<tr><th scope="row">{esc(_title(check))}</th>{cells}<td class="num total" data-count="{esc(check)}">{total}</td></tr>')
        parts += [
            "<h3>Findings per check and language</h3>",
            '<div class="scroll"><table class="counts">',
            f'<thead><tr><th>check</th>{head}<th class="num">all</th></tr></thead>',
            f"<tbody>{''.join(rows)}</tbody></table></div>",
        ]

        rows = []
        for call in calls:
            verdict = _verdict(call.verdict) + (' <span class="unchecked">not checked</span>' if _unchecked(call) else "")
            per_check = "".join(f'<td class="num wide">{call.count(check) or ""}</td>' for check in CHECKS)
            duration = call.report.get("duration")
            rows.append(
                f'<tr class="{"fail" if call.failing else "pass"}" data-summary-call="{esc(call.call_id)}">'
                f'<th scope="row"><a href="#{anchors[id(call)]}">{esc(call.call_id)}</a></th>'
                f'<td class="wide">{esc(call.language)}</td><td>{verdict}</td>'
                f'<td class="num wide">{esc(clock(duration)) if isinstance(duration, (int, float)) else ""}</td>'
                f"{per_check}"
                f'<td class="num"><strong>{len(call.findings)}</strong></td></tr>'
            )
        check_heads = "".join(f'<th class="num wide">{esc(_short(check))}</th>' for check in CHECKS)
        parts += [
            "<h3>Calls, worst first</h3>",
            '<div class="scroll"><table class="calls">',
            f'<thead><tr><th>call</th><th class="wide">lang</th><th>verdict</th><th class="num wide">length</th>{check_heads}<th class="num">all</th></tr></thead>',
            f"<tbody>{''.join(rows)}</tbody></table></div>",
        ]
    if batch.errors:
        items = "".join(
            f'<li data-error-input="{esc(row.input)}"><code>{esc(row.input)}</code>: {esc(row.error or row.status)}</li>'
            for row in batch.errors
        )
        parts += ["<h3>Inputs that could not be processed</h3>", f'<ul class="errors">{items}</ul>']
    parts.append("</section>")
    return "\n".join(parts)


def _unchecked(call: CallOutput) -> bool:
    """Every check was skipped (no rules for the language): its "pass" says nothing."""
    skipped = {s.get("check") for s in call.report.get("skipped_checks", []) if isinstance(s, dict)}
    return set(CHECKS) <= skipped


def _title(check: str) -> str:
    return check.replace("_", " ").capitalize()


def _short(check: str) -> str:
    return {"speaking_rate": "rate", "third_party_disclosure": "disclosure", "aggressive_language": "aggression"}.get(
        check, check.replace("_", " "))


def _verdict(verdict: str) -> str:
    return f'<span class="verdict {esc(verdict)}">{esc(verdict)}</span>'


# ------------------------------------------------------------------ one call


def _finding_key(call: CallOutput, index: int) -> str:
    return f"{call.call_id}#{index}"


def _call_section(call: CallOutput, anchor: str, rules_dir: Path) -> str:
    report = call.report
    transcript = call.transcript
    findings = call.findings
    duration = _duration(report, transcript)
    facts = [esc(call.language)]
    if report.get("jurisdiction"):
        facts.append(esc(report["jurisdiction"]))
    facts.append(f"{esc(clock(duration))} long")
    facts.append(f"{len(findings)} finding{'s' if len(findings) != 1 else ''}")
    if report.get("fail_on"):
        facts.append(f"fails at {esc(report['fail_on'])}")
    for speaker, metrics in (report.get("metrics") or {}).items():
        if isinstance(metrics, dict) and "wpm" in metrics:
            facts.append(f"{esc(speaker)}: {esc(metrics.get('wpm'))} wpm on average, "
                         f"{esc(metrics.get('max_window_wpm'))} at the busiest 30 s")
    parts = [
        f'<section class="call {"fail" if call.failing else "pass"}" id="{anchor}" data-call-id="{esc(call.call_id)}">',
        f'<h2><span class="cid">{esc(call.call_id)}</span> {_verdict(call.verdict)}'
        f'{" <span class=unchecked>not checked</span>" if _unchecked(call) else ""}</h2>',
        f'<p class="facts">{" · ".join(facts)}</p>',
    ]
    if transcript is not None:
        parts.append(_timeline(call, anchor, transcript, duration))
        parts.append(_rate_chart(call, anchor, transcript, duration, rules_dir))
    else:
        parts.append('<p class="note">The transcript this report was made from is not available, so there is no timeline.</p>')
    parts.append(_findings(call, anchor))
    notes = [f"{esc(_title(s.get('check', '')))} was not checked: {esc(s.get('reason', ''))}"
             for s in report.get("skipped_checks", []) if isinstance(s, dict)]
    notes += [esc(note) for note in report.get("notes", []) if isinstance(note, str)]
    if notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{note}</li>" for note in notes) + "</ul>")
    if transcript is not None:
        parts.append(_transcript(call, anchor, transcript))
    parts.append('<p class="back"><a href="#summary">Back to the summary</a></p>')
    parts.append("</section>")
    return "\n".join(parts)


def _duration(report: dict[str, Any], transcript: Transcript | None) -> float:
    values = [report.get("duration") or 0.0]
    if transcript is not None:
        values += [transcript.duration] + [word.end for word in transcript.words[-1:]]
    for finding in report.get("findings", []):
        values.append(finding.get("end") or 0.0)
    return max(float(v) for v in values if isinstance(v, (int, float))) or 1.0


def _x(seconds: float, duration: float) -> float:
    return round(min(max(seconds / duration, 0.0), 1.0) * VIEW_WIDTH, 2)


def _pct(seconds: float, duration: float) -> str:
    return f"{min(max(seconds / duration, 0.0), 1.0) * 100:.2f}%"


def _ticks(duration: float) -> list[float]:
    for step in (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200):
        if duration / step <= 8:
            break
    return [step * n for n in range(int(duration // step) + 1)]


def _axis(duration: float) -> str:
    labels = "".join(
        f'<span{" class=odd" if n % 2 else ""} style="left:{_pct(t, duration)}">{clock(t)}</span>'
        for n, t in enumerate(_ticks(duration))
    )
    return f'<div class="axis" aria-hidden="true">{labels}</div>'


def _speaker_order(transcript: Transcript) -> list[str]:
    rank = {Role.AGENT: 0, Role.CUSTOMER: 1, Role.UNKNOWN: 2}
    return sorted(transcript.speakers, key=lambda key: (rank.get(transcript.speakers[key].role, 3), key))


def _speaker_label(transcript: Transcript, key: str) -> str:
    role = transcript.speakers[key].role
    if role is Role.AGENT:
        return "agent" if key == "agent" else f"agent ({key})"
    if role is Role.CUSTOMER:
        return "other party" if key == "customer" else f"other party ({key})"
    return "both (mono)" if key == "mixed" else key


def _blocks(words: Iterable[Word]) -> list[tuple[float, float]]:
    blocks: list[list[float]] = []
    for word in words:
        if blocks and word.start - blocks[-1][1] <= BLOCK_GAP:
            blocks[-1][1] = max(blocks[-1][1], word.end)
        else:
            blocks.append([word.start, word.end])
    return [(a, b) for a, b in blocks]


def _timeline(call: CallOutput, anchor: str, transcript: Transcript, duration: float) -> str:
    lanes = []
    findings = call.findings
    for key in _speaker_order(transcript):
        words = [w for w in transcript.words if w.speaker == key]
        rects = "".join(
            f'<rect class="speech" x="{_x(a, duration)}" y="4" width="{max(_x(b, duration) - _x(a, duration), 1.5):.2f}" height="16"/>'
            for a, b in _blocks(words)
        )
        bands = "".join(
            f'<rect class="band sev-{esc(f.get("severity"))}" x="{_x(f.get("start", 0), duration)}" y="0" '
            f'width="{max(_x(f.get("end", 0), duration) - _x(f.get("start", 0), duration), 4):.2f}" height="24"/>'
            for f in findings if f.get("speaker") == key
        )
        role = transcript.speakers[key].role.value
        lanes.append(
            f'<div class="lane role-{esc(role)}"><span class="lane-label">{esc(_speaker_label(transcript, key))}</span>'
            f'<svg class="lane-svg" viewBox="0 0 {VIEW_WIDTH} 24" preserveAspectRatio="none" role="img" '
            f'aria-label="{esc(_speaker_label(transcript, key))} speaking">{rects}{bands}</svg></div>'
        )
    marks = "".join(
        f'<a class="mark sev-{esc(f.get("severity"))}" href="#{anchor}-f{n}" style="left:clamp(11px,{_pct(f.get("start", 0), duration)},calc(100% - 11px))" '
        f'data-finding-marker="{esc(_finding_key(call, n))}" title="{esc(clock(f.get("start")))} {esc(f.get("rule", ""))}">{n + 1}</a>'
        for n, f in enumerate(findings)
    )
    return (
        '<figure class="timeline">'
        "<figcaption>Timeline: who spoke when; the numbers are the findings below</figcaption>"
        f'<div class="lane marks-lane"><span class="lane-label">findings</span><div class="marks">{marks}</div></div>'
        f'{"".join(lanes)}'
        f'<div class="lane axis-lane"><span class="lane-label"></span>{_axis(duration)}</div>'
        "</figure>"
    )


def rate_series(words: Sequence[Word], settings: RateSettings) -> list[tuple[float, float]]:
    """(call time, words a minute over the agent's last window of speech) at each of the agent's words.

    The window is on the agent's own speech clock, as the speaking-rate check
    measures it; before a full window of speech the rate so far is used (once
    there are ten seconds of it).
    """
    speech = SpeechClock.of(list(words), settings.max_gap_seconds)
    width = settings.window_seconds
    points = []
    for word, end in zip(speech.words, speech.ends):
        low = max(0.0, end - width)
        if end - low < min(width, 10.0):
            continue
        points.append((word.end, speech.wpm(low, end)))
    if len(points) > MAX_RATE_POINTS:
        step = len(points) / MAX_RATE_POINTS
        points = [points[int(i * step)] for i in range(MAX_RATE_POINTS)] + [points[-1]]
    return points


def _rate_chart(call: CallOutput, anchor: str, transcript: Transcript, duration: float, rules_dir: Path) -> str:
    agents = [key for key in _speaker_order(transcript) if transcript.speakers[key].role is Role.AGENT]
    if not agents:
        return '<p class="note">No speaking-rate chart: nobody can tell the agent\'s words apart (mono recording).</p>'
    try:
        rules = load_rules(transcript.language, rules_dir)
    except EtiquetteError:
        rules = None
    if rules is None:
        return f'<p class="note">No speaking-rate chart: there are no rules for {esc(transcript.language)}.</p>'
    settings = rules.rate
    series = {key: rate_series([w for w in transcript.words if w.speaker == key], settings) for key in agents}
    peak = max((wpm for points in series.values() for _, wpm in points), default=0.0)
    top = max(settings.threshold_wpm * 1.25, peak * 1.08, 60.0)
    top = math.ceil(top / 50) * 50
    height = 200

    def y(wpm: float) -> float:
        return round(height - min(wpm, top) / top * height, 2)

    bands = "".join(
        f'<rect class="band sev-{esc(f.get("severity"))}" x="{_x(f.get("start", 0), duration)}" y="0" '
        f'width="{max(_x(f.get("end", 0), duration) - _x(f.get("start", 0), duration), 4):.2f}" height="{height}"/>'
        for f in call.findings if f.get("check") == "speaking_rate"
    )
    lines = []
    for n, key in enumerate(agents):
        points = series[key]
        if not points:
            continue
        coords = " ".join(f"{_x(t, duration)},{y(wpm)}" for t, wpm in points)
        lines.append(f'<polyline class="rate-line line-{n}" points="{coords}" vector-effect="non-scaling-stroke"/>')
    threshold = settings.threshold_wpm
    grid = "".join(
        f'<line class="grid" x1="0" x2="{VIEW_WIDTH}" y1="{y(v)}" y2="{y(v)}" vector-effect="non-scaling-stroke"/>'
        for v in range(50, int(top), 50)
    )
    ylabels = "".join(f'<span style="bottom:{v / top * 100:.2f}%">{v}</span>' for v in range(0, int(top) + 1, 100))
    if not lines:
        return '<p class="note">No speaking-rate chart: the agent spoke for less than ten seconds.</p>'
    return (
        '<figure class="rate">'
        f"<figcaption>Agent's speaking rate: words a minute over their last {settings.window_seconds:.0f} s of speech; "
        f'dashed line: the threshold, {threshold:.0f}</figcaption>'
        '<div class="lane chart-lane"><span class="lane-label yaxis" aria-hidden="true">' + ylabels + "</span>"
        f'<div class="chart"><svg viewBox="0 0 {VIEW_WIDTH} {height}" preserveAspectRatio="none" role="img" '
        f'aria-label="speaking rate against the threshold of {threshold:.0f} words a minute" data-threshold="{threshold:.0f}">'
        f'{bands}{grid}<line class="threshold" x1="0" x2="{VIEW_WIDTH}" y1="{y(threshold)}" y2="{y(threshold)}" '
        f'vector-effect="non-scaling-stroke"/>{"".join(lines)}</svg>'
        f'<span class="threshold-label" style="bottom:{threshold / top * 100:.2f}%">{threshold:.0f} wpm</span></div></div>'
        f'<div class="lane axis-lane"><span class="lane-label"></span>{_axis(duration)}</div>'
        "</figure>"
    )


def _findings(call: CallOutput, anchor: str) -> str:
    if not call.findings:
        return '<p class="none">No findings.</p>'
    items = []
    for n, finding in enumerate(call.findings):
        severity = str(finding.get("severity", ""))
        start, end = finding.get("start"), finding.get("end")
        explanation = finding.get("explanation")
        items.append(
            f'<article class="finding sev-{esc(severity)}" id="{anchor}-f{n}" data-finding="{esc(_finding_key(call, n))}" '
            f'data-check="{esc(finding.get("check", ""))}" data-rule="{esc(finding.get("rule", ""))}" '
            f'data-severity="{esc(severity)}" data-start="{esc(start)}" data-end="{esc(end)}">'
            f'<div class="f-head"><span class="num">{n + 1}</span>'
            f'<span class="sev">{esc(severity)}</span>'
            f'<span class="check">{esc(_title(str(finding.get("check", ""))))}</span>'
            f'<a class="when" href="#{anchor}-w{n}">{esc(clock(start))}–{esc(clock(end))}</a></div>'
            f'<p class="msg">{esc(finding.get("message", ""))}</p>'
            f'<blockquote class="evidence">{_text_with_masks(str(finding.get("evidence", "")))}</blockquote>'
            + (f'<p class="why">{esc(explanation)}</p>' if explanation else "")
            + f'<p class="cite"><span>Rule</span> <code>{esc(finding.get("rule", ""))}</code>'
            f' <span>Citation</span> {esc(finding.get("reference", ""))}</p>'
            "</article>"
        )
    return '<div class="findings">' + "".join(items) + "</div>"


def _mask_chip(kind: str) -> str:
    return f'<span class="redacted" title="redacted">{esc(kind)}</span>'


def _text_with_masks(text: str) -> str:
    out: list[str] = []
    previous = None
    for token in text.split():
        if is_mask(token):
            if token != previous:
                out.append(_mask_chip(mask_kind(token) or ""))
        else:
            out.append(esc(token))
        previous = token
    return " ".join(out)


def _transcript(call: CallOutput, anchor: str, transcript: Transcript) -> str:
    findings = call.findings
    spans = []
    for n, finding in enumerate(findings):
        try:
            spans.append((n, finding.get("speaker"), float(finding["start"]) - 0.01, float(finding["end"]) + 0.01))
        except (KeyError, TypeError, ValueError):
            continue
    covering: list[tuple[int, ...]] = []
    for word in transcript.words:
        covering.append(tuple(n for n, speaker, a, b in spans if speaker == word.speaker and a <= word.start and word.end <= b))
    first_word = {}
    for index, ns in enumerate(covering):
        for n in ns:
            first_word.setdefault(n, index)

    turns: list[list[int]] = []
    for index, word in enumerate(transcript.words):
        if turns and transcript.words[turns[-1][-1]].speaker == word.speaker:
            turns[-1].append(index)
        else:
            turns.append([index])

    rendered = []
    for indices in turns:
        key = transcript.words[indices[0]].speaker
        role = transcript.speakers[key].role.value if key in transcript.speakers else "unknown"
        pieces: list[str] = []
        group: list[int] = []

        def flush() -> None:
            if not group:
                return
            words = _words_html(transcript, group)
            ns = covering[group[0]]
            if ns:
                severity = max((findings[n].get("severity", "low") for n in ns), key=_severity_order)
                ids = " ".join(esc(_finding_key(call, n)) for n in ns)
                anchors = "".join(f'<span id="{anchor}-w{n}" class="anchor"></span>' for n in ns if first_word.get(n) == group[0])
                labels = "".join(f'<sup>{n + 1}</sup>' for n in ns if first_word.get(n) == group[0])
                pieces.append(f'{anchors}<mark class="hl sev-{esc(severity)}" data-findings="{ids}">{labels}{words}</mark>')
            else:
                pieces.append(words)
            group.clear()

        for index in indices:
            if group and covering[index] != covering[group[-1]]:
                flush()
            group.append(index)
        flush()
        start = transcript.words[indices[0]].start
        rendered.append(
            f'<div class="turn role-{esc(role)}"><div class="who">{esc(_speaker_label(transcript, key)) if key in transcript.speakers else esc(key)}'
            f' <span class="ts">{clock(start)}</span></div><p>{" ".join(pieces)}</p></div>'
        )
    is_open = " open" if findings else ""
    return (
        f'<details class="transcript"{is_open}><summary>Transcript ({len(transcript.words)} words)</summary>'
        + "".join(rendered) + "</details>"
    )


def _words_html(transcript: Transcript, indices: list[int]) -> str:
    return _text_with_masks(" ".join(transcript.words[index].text for index in indices))


def _severity_order(value: str) -> int:
    return {"low": 0, "medium": 1, "high": 2}.get(value, -1)


CSS = """
:root{--ink:#1d2430;--muted:#5b6472;--line:#d9dee6;--bg:#f6f7f9;--card:#fff;--agent:#3367d6;--other:#8a94a6;
--high:#c62828;--medium:#e07b00;--low:#b59a00;--good:#2e7d32;--hl-high:#fde2e1;--hl-medium:#fff0d6;--hl-low:#fbf6cf}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--ink);background:var(--bg)}
header.top,main{max-width:1120px;margin:0 auto;padding:0 16px}
header.top{padding-top:18px}
h1{font-size:1.5rem;margin:0 0 2px}
h1 .sub{color:var(--muted);font-weight:400;font-size:1rem}
h2{font-size:1.2rem;margin:0 0 6px;display:flex;gap:10px;align-items:center;flex-wrap:wrap}
h3{font-size:1rem;margin:18px 0 8px}
.meta,.facts,.note,.none{color:var(--muted);margin:4px 0}
.facts{font-size:.9rem}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px;margin:16px 0}
section.call.fail{border-left:5px solid var(--high)}
section.call.pass{border-left:5px solid var(--good)}
.cid{overflow-wrap:anywhere}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(130px,1fr));gap:10px}
.stat{border:1px solid var(--line);border-radius:8px;padding:10px 12px;background:var(--bg)}
.stat .n{display:block;font-size:1.7rem;font-weight:700;line-height:1.1}
.stat .l{color:var(--muted);font-size:.85rem}
.stat.bad .n{color:var(--high)}
.stat.good .n{color:var(--good)}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap}
thead th{color:var(--muted);font-weight:600;font-size:.8rem;text-transform:uppercase;letter-spacing:.03em}
td.num,th.num{text-align:right}
table.calls th[scope=row]{max-width:260px;overflow:hidden;text-overflow:ellipsis}
tr.fail th a{color:var(--high)}
a{color:#1f5fc4}
.verdict{display:inline-block;border-radius:999px;padding:1px 10px;font-size:.8rem;font-weight:700;text-transform:uppercase;letter-spacing:.04em}
.verdict.fail{background:var(--hl-high);color:var(--high)}
.verdict.pass{background:#e3f4e4;color:var(--good)}
.unchecked{font-size:.75rem;color:var(--muted);font-weight:400}
ul.errors code{overflow-wrap:anywhere;white-space:normal}
figure{margin:14px 0}
figcaption{font-size:.85rem;color:var(--muted);margin-bottom:6px}
.lane{display:grid;grid-template-columns:96px 1fr;align-items:center;gap:8px;min-height:24px}
.lane-label{font-size:.8rem;color:var(--muted);text-align:right;overflow-wrap:anywhere;line-height:1.1}
.lane-svg{width:100%;height:24px;display:block;background:repeating-linear-gradient(90deg,transparent 0 49px,#eef1f5 49px 50px)}
rect.speech{fill:var(--other)}
.role-agent rect.speech{fill:var(--agent)}
rect.band{opacity:.3}
.lane-svg rect.band{opacity:.45}
rect.band.sev-high{fill:var(--high)}rect.band.sev-medium{fill:var(--medium)}rect.band.sev-low{fill:var(--low)}
.marks{position:relative;height:26px}
.mark{position:absolute;top:2px;transform:translateX(-50%);min-width:22px;height:22px;border-radius:11px;color:#fff;font-size:.75rem;font-weight:700;
text-align:center;line-height:22px;text-decoration:none;padding:0 4px;box-shadow:0 0 0 2px #fff}
.mark.sev-high{background:var(--high)}.mark.sev-medium{background:var(--medium)}.mark.sev-low{background:var(--low)}
.axis{position:relative;height:18px;font-size:.72rem;color:var(--muted)}
.axis span{position:absolute;transform:translateX(-50%);white-space:nowrap}
.axis span:first-child{transform:none}
.chart{position:relative;height:150px;border-left:1px solid var(--line);border-bottom:1px solid var(--line)}
.chart svg{width:100%;height:100%;display:block}
.yaxis{position:relative;height:150px;overflow:visible}
.chart-lane{margin-top:8px}
.yaxis span{position:absolute;right:0;transform:translateY(50%);font-size:.72rem}
line.grid{stroke:#e9edf2;stroke-width:1}
line.threshold{stroke:var(--high);stroke-width:1.5;stroke-dasharray:6 4}
polyline.rate-line{fill:none;stroke:var(--agent);stroke-width:2;stroke-linejoin:round}
polyline.line-1{stroke:#7b1fa2}
.threshold-label{position:absolute;right:4px;transform:translateY(-2px);font-size:.72rem;color:var(--high);background:rgba(255,255,255,.85);padding:0 3px}
.findings{display:grid;gap:10px;margin:12px 0}
.finding{border:1px solid var(--line);border-left:5px solid var(--low);border-radius:8px;padding:10px 12px;background:#fff}
.finding.sev-high{border-left-color:var(--high)}.finding.sev-medium{border-left-color:var(--medium)}
.finding:target{box-shadow:0 0 0 3px #9cc0ff}
.f-head{display:flex;flex-wrap:wrap;gap:6px 10px;align-items:center;font-size:.9rem}
.f-head .num{background:var(--ink);color:#fff;border-radius:11px;min-width:22px;height:22px;line-height:22px;text-align:center;font-size:.75rem;font-weight:700}
.sev{text-transform:uppercase;font-size:.72rem;font-weight:700;letter-spacing:.05em;padding:1px 6px;border-radius:4px;background:var(--hl-low)}
.sev-high .sev{background:var(--hl-high);color:var(--high)}.sev-medium .sev{background:var(--hl-medium);color:#9a5200}
.f-head .check{font-weight:600}
.f-head .when{margin-left:auto;font-variant-numeric:tabular-nums}
.msg{margin:6px 0 4px;font-weight:600}
blockquote.evidence{margin:6px 0;padding:6px 10px;border-left:3px solid var(--line);background:var(--bg);font-style:italic;overflow-wrap:anywhere}
.why{margin:4px 0;color:var(--muted);font-size:.9rem}
.cite{margin:4px 0 0;font-size:.85rem;overflow-wrap:anywhere}
.cite span{color:var(--muted);font-size:.75rem;text-transform:uppercase;letter-spacing:.04em;margin-right:2px}
.cite span+code{margin-right:10px}
code{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.85em;background:#eef1f5;padding:0 4px;border-radius:3px;overflow-wrap:anywhere}
ul.notes{color:var(--muted);font-size:.9rem;padding-left:20px}
details.transcript{margin-top:12px;border-top:1px solid var(--line);padding-top:8px}
details.transcript summary{cursor:pointer;font-weight:600;margin-bottom:8px}
.turn{display:grid;grid-template-columns:110px 1fr;gap:10px;padding:4px 0;border-bottom:1px dashed #eceff3}
.turn .who{font-size:.8rem;color:var(--muted);padding-top:2px}
.turn.role-agent .who{color:var(--agent);font-weight:600}
.turn .ts{display:block;font-variant-numeric:tabular-nums;font-weight:400;color:var(--muted)}
.turn p{margin:0;overflow-wrap:anywhere}
mark.hl{padding:1px 2px;border-radius:3px;background:var(--hl-low);box-shadow:inset 0 -2px 0 var(--low)}
mark.hl.sev-high{background:var(--hl-high);box-shadow:inset 0 -2px 0 var(--high)}
mark.hl.sev-medium{background:var(--hl-medium);box-shadow:inset 0 -2px 0 var(--medium)}
mark.hl sup{font-size:.65rem;font-weight:700;margin-right:2px;color:var(--ink)}
.anchor{scroll-margin-top:80px}
.redacted{display:inline-block;background:#2b3240;color:#fff;border-radius:3px;padding:0 5px;font-size:.75em;font-style:normal;
letter-spacing:.03em;text-transform:uppercase;vertical-align:1px}
.back{margin:10px 0 0;font-size:.85rem}
@media (max-width:600px){
  body{font-size:14px}
  header.top,main{padding:0 10px}
  section{padding:12px;margin:12px 0}
  .lane{grid-template-columns:52px 1fr;gap:6px}
  .lane-label{font-size:.68rem}
  .axis span.odd{display:none}
  .wide{display:none}
  table.calls th[scope=row]{max-width:170px}
  .turn{grid-template-columns:1fr;gap:0}
  .turn .who{display:flex;gap:8px}
  .turn .ts{display:inline}
  .f-head .when{margin-left:0}
  .stats{grid-template-columns:repeat(2,1fr)}
  .chart,.yaxis{height:120px}
}
@media print{body{background:#fff}section{break-inside:avoid-page}details.transcript{display:block}}
"""
