"""Running a batch: find the calls, transcribe what needs it, check, write reports.

The one rule about call ids: every call writes `<call_id>.report.json`, so two
inputs must never share an id silently.

- An audio file and a transcript with the same call id are the same call. The
  transcript is checked (it is what the recording platform or an earlier run
  produced, and it is fast); the audio is named in the report and not
  transcribed again unless `retranscribe` is set.
- Any other clash (two audio files, two transcripts) keeps the first input in
  path order and fails each later one with a one-line error, so no report is
  ever overwritten by a different call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from etiquette.checks import run_checks
from etiquette.errors import EtiquetteError, ModelError
from etiquette.report import CallReport, SummaryRow, write_report, write_summary
from etiquette.rulebook import RULES_DIR, load_rules
from etiquette.transcripts import SUFFIX as TRANSCRIPT_SUFFIX
from etiquette.transcripts import call_id_from_path, read_transcript, write_transcript
from etiquette.types import Severity, Transcript

AUDIO_SUFFIXES = frozenset(
    ".wav .wave .mp3 .flac .ogg .oga .opus .m4a .aac .wma .amr .au .snd .aif .aiff .aifc .caf .gsm .webm .mka .mp4 .3gp .spx .vox".split()
)


@dataclass(frozen=True)
class CheckOptions:
    out_dir: Path
    language: str = "en"  # of audio inputs; a transcript carries its own
    model: Path | None = None
    agent_channel: str = "left"
    fail_on: Severity = Severity.MEDIUM
    retranscribe: bool = False
    rules_dir: Path = RULES_DIR


@dataclass
class Call:
    call_id: str
    transcript_path: Path | None = None
    audio_path: Path | None = None
    transcript: Transcript | None = None


@dataclass
class RunResult:
    """Owns the exit status: 0 clean, 1 findings, 2 no usable model, 3 an input failed."""

    rows: list[SummaryRow] = field(default_factory=list)
    model_missing: bool = False

    @property
    def reports(self) -> list[CallReport]:
        return [row.report for row in self.rows if row.report]

    @property
    def failures(self) -> list[SummaryRow]:
        return [row for row in self.rows if row.error]

    @property
    def exit_code(self) -> int:
        if self.model_missing:
            return 2
        if self.failures:
            return 3
        if any(report.verdict == "fail" for report in self.reports):
            return 1
        return 0


Listener = Callable[[SummaryRow], None]


def find_inputs(paths: Iterable[Path]) -> tuple[list[Path], list[SummaryRow]]:
    """Expand folders (recursively) into audio and transcript files, sorted; report missing paths."""
    found: list[Path] = []
    problems: list[SummaryRow] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and _is_input(p))
        elif path.exists():
            found.append(path)
        else:
            problems.append(SummaryRow(input=str(path), call_id=None, error="no such file or folder"))
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return [Path(p) for p in unique], problems


def _is_input(path: Path) -> bool:
    return path.name.endswith(TRANSCRIPT_SUFFIX) or path.suffix.lower() in AUDIO_SUFFIXES


def _is_transcript(path: Path) -> bool:
    return path.name.endswith(TRANSCRIPT_SUFFIX) or path.suffix.lower() == ".json"


def plan_calls(files: list[Path]) -> tuple[list[Call], list[SummaryRow]]:
    """Group input files into calls by call id (see the module docstring)."""
    calls: dict[str, Call] = {}
    problems: list[SummaryRow] = []
    for path in files:
        if _is_transcript(path):
            try:
                transcript = read_transcript(path)
            except EtiquetteError as error:
                problems.append(SummaryRow(input=str(path), call_id=call_id_from_path(path), error=str(error)))
                continue
            call = calls.setdefault(transcript.call_id, Call(transcript.call_id))
            if call.transcript_path is not None:
                problems.append(_clash(path, transcript.call_id, call.transcript_path))
                continue
            call.transcript_path, call.transcript = path, transcript
        else:
            call_id = path.stem
            call = calls.setdefault(call_id, Call(call_id))
            if call.audio_path is not None:
                problems.append(_clash(path, call_id, call.audio_path))
                continue
            call.audio_path = path
    return list(calls.values()), problems


def _clash(path: Path, call_id: str, first: Path) -> SummaryRow:
    return SummaryRow(
        input=str(path),
        call_id=call_id,
        error=f"call id '{call_id}' is already taken by {first}; skipped so that its report is not overwritten (rename one of them)",
    )


def run_batch(inputs: Iterable[Path], options: CheckOptions, listener: Listener | None = None) -> RunResult:
    """Check every call; every input ends up as one row of the summary."""
    result = RunResult()
    files, missing = find_inputs(inputs)
    calls, problems = plan_calls(files)
    options.out_dir.mkdir(parents=True, exist_ok=True)
    models: dict[str, object] = {}

    def record(row: SummaryRow) -> None:
        result.rows.append(row)
        if listener:
            listener(row)

    for row in missing + problems:
        record(row)
    for call in calls:
        try:
            record(_process(call, options, models))
        except ModelError as error:
            result.model_missing = True
            record(SummaryRow(input=str(call.audio_path), call_id=call.call_id, error=str(error)))
        except EtiquetteError as error:
            record(SummaryRow(input=str(call.audio_path or call.transcript_path), call_id=call.call_id, error=str(error)))
    write_summary(result.rows, options.out_dir)
    return result


def _process(call: Call, options: CheckOptions, models: dict[str, object]) -> SummaryRow:
    note = None
    transcript_path = None
    if call.transcript is not None and not (options.retranscribe and call.audio_path):
        transcript = call.transcript
        source = call.transcript_path
        if call.audio_path:
            note = "audio not transcribed: its transcript was given (use --retranscribe to transcribe it)"
    else:
        assert call.audio_path is not None
        transcript = _transcribe(call, options, models)
        source = call.audio_path
        transcript_path = options.out_dir / f"{call.call_id}{TRANSCRIPT_SUFFIX}"
        write_transcript(transcript, transcript_path)
    rules = load_rules(transcript.language, options.rules_dir)
    result = run_checks(transcript, rules)
    report = CallReport(
        transcript=transcript,
        result=result,
        source=str(source),
        fail_on=options.fail_on,
        jurisdiction=rules.jurisdiction_for(transcript.language).name if rules else None,
        audio=str(call.audio_path) if call.audio_path and source != call.audio_path else None,
        transcript_path=str(transcript_path) if transcript_path else None,
    )
    write_report(report, options.out_dir)
    return SummaryRow(input=str(source), call_id=call.call_id, report=report, note=note)


def _transcribe(call: Call, options: CheckOptions, models: dict[str, object]) -> Transcript:
    # Imported here so that checking transcripts never pays for loading Vosk.
    from etiquette import transcribe

    language = options.language
    if language not in models:
        try:
            choice = transcribe.resolve_model(language, options.model)
            models[language] = transcribe.load_model(choice.path)
        except ModelError as error:
            models[language] = error
    model = models[language]
    if isinstance(model, ModelError):
        raise model
    return transcribe.transcribe_audio(
        call.audio_path, call_id=call.call_id, language=language, model=model, agent_channel=options.agent_channel
    )
