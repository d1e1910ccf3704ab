"""Running a batch: find the calls, transcribe what needs it, check, write reports.

Call ids. Every call writes `<call_id>.report.json`, so two inputs must never
share an id silently:
- an audio file and a transcript with the same call id are the same call. The
  transcript is checked (it is what the recording platform or an earlier run
  produced, and it is fast); the audio is listed as "paired" and not transcribed
  unless `retranscribe` is set;
- any other clash (two audio files, two transcripts) keeps the first input in
  path order and fails each later one with a one-line error.

Resuming. A report records the SHA-256 of the input it was made from and a
fingerprint of the rules and options; a run skips every call whose report is
still valid. A transcript this tool wrote records the SHA-256 of its audio, so
changing the rules re-checks saved transcripts without transcribing again.

Parallel work. Transcription is the cost: each audio channel is decoded on its
own worker thread (Vosk releases the GIL while decoding), all sharing one loaded
model per language. Everything else runs on the calling thread, so reports and
the summary come out the same whatever the number of workers.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Protocol

from etiquette import __version__
from etiquette.audio import AudioInfo, Limit
from etiquette.checks import run_checks
from etiquette.errors import AudioError, EtiquetteError, Interrupted, ModelError, NothingToCheck
from etiquette.redact import RULES_FILE as REDACTION_RULES
from etiquette.redact import is_redacted, redact_transcript
from etiquette.report import CallReport, ReportSummary, SummaryRow, write_report, write_summary
from etiquette.rulebook import RULES_DIR, load_audio_rules, load_rules
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
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    timeout: float | None = None  # seconds a call's transcription may take
    offline: bool = False  # never touch the network, not even to offer a model download
    download_model: bool = False  # download the catalogue's small model when none is installed
    redact: bool = False  # mask personal data in every file written (the checks still see it all)

    def fingerprint(self) -> str:
        """Everything besides the input that a report depends on."""
        digest = hashlib.sha256(f"{__version__}|{self.fail_on.value}|{self.agent_channel}|{self.language}|{self.redact}".encode())
        for path in sorted(self.rules_dir.glob("*.toml")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        if self.redact:  # what is masked is part of what a redacted report says
            digest.update(REDACTION_RULES.read_bytes())
        return digest.hexdigest()[:16]


class Progress(Protocol):
    """What a run tells the terminal while it works."""

    def started(self, calls: int) -> None: ...

    def audio_queued(self, seconds: float) -> None: ...

    def finished(self, row: SummaryRow, audio_seconds: float) -> None: ...


@dataclass
class Call:
    call_id: str
    order: int  # position of its first input, for a stable summary
    transcript_path: Path | None = None
    audio_path: Path | None = None
    transcript: Transcript | None = None

    def uses_audio(self, options: CheckOptions) -> bool:
        return self.audio_path is not None and (self.transcript is None or options.retranscribe)

    def source(self, options: CheckOptions) -> Path:
        """The input this call's words come from."""
        return self.audio_path if self.uses_audio(options) else self.transcript_path  # type: ignore[return-value]


@dataclass
class RunResult:
    """Owns the exit status: 0 clean, 1 findings, 2 no usable model, 3 an input failed, 130 interrupted."""

    rows: list[SummaryRow] = field(default_factory=list)
    model_missing: bool = False
    interrupted: bool = False

    @property
    def reports(self) -> list[ReportSummary]:
        return [row.summary for row in self.rows if row.summary]

    @property
    def failures(self) -> list[SummaryRow]:
        return [row for row in self.rows if row.status == "error"]

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        if self.model_missing:
            return 2
        if self.failures:
            return 3
        if any(report.verdict == "fail" for report in self.reports):
            return 1
        return 0


# ------------------------------------------------------------------ planning


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
            problems.append(SummaryRow(input=str(path), call_id=None, status="error", error="no such file or folder"))
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return [Path(p) for p in unique], problems


def _is_input(path: Path) -> bool:
    return path.name.endswith(TRANSCRIPT_SUFFIX) or path.suffix.lower() in AUDIO_SUFFIXES


def _is_transcript(path: Path) -> bool:
    return path.name.endswith(TRANSCRIPT_SUFFIX) or path.suffix.lower() == ".json"


def plan_calls(files: list[Path]) -> tuple[list[Call], list[tuple[int, SummaryRow]]]:
    """Group input files into calls by call id (see the module docstring)."""
    calls: dict[str, Call] = {}
    problems: list[tuple[int, SummaryRow]] = []
    for order, path in enumerate(files):
        if _is_transcript(path):
            try:
                transcript = read_transcript(path)
            except EtiquetteError as error:
                problems.append((order, _error_row(path, call_id_from_path(path), error)))
                continue
            call = calls.setdefault(transcript.call_id, Call(transcript.call_id, order))
            if call.transcript_path is not None:
                problems.append((order, _clash(path, transcript.call_id, call.transcript_path)))
                continue
            call.transcript_path, call.transcript = path, transcript
        else:
            call = calls.setdefault(path.stem, Call(path.stem, order))
            if call.audio_path is not None:
                problems.append((order, _clash(path, path.stem, call.audio_path)))
                continue
            call.audio_path = path
    return list(calls.values()), problems


def _clash(path: Path, call_id: str, first: Path) -> SummaryRow:
    message = f"call id '{call_id}' is already taken by {first}; skipped so that its report is not overwritten (rename one of them)"
    return SummaryRow(input=str(path), call_id=call_id, status="error", error=message)


def _error_row(path: Path | None, call_id: str | None, error: Exception) -> SummaryRow:
    status = "interrupted" if isinstance(error, Interrupted) else "error"
    return SummaryRow(input=str(path), call_id=call_id, status=status, error=str(error))


def sha256_of(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


# ------------------------------------------------------------------ running


def run_batch(
    inputs: Iterable[Path],
    options: CheckOptions,
    progress: Progress | None = None,
    confirm_download: Callable[[object], bool] | None = None,
    download_progress: Callable[[str, int, int | None], None] | None = None,
) -> RunResult:
    """Check every call; every input ends up as one row of the summary.

    With no speech model installed for the audio's language, `confirm_download`
    (asked with the catalogue entry) may agree to download one; it is never
    asked when `options.offline`.
    """
    files, missing = find_inputs(inputs)
    calls, problems = plan_calls(files)
    if not calls and not problems and not missing:
        raise NothingToCheck("no audio or transcript files found in the inputs")
    options.out_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(options.out_dir)
    batch = _Batch(options, progress, confirm_download, download_progress)
    paired: list[tuple[int, SummaryRow]] = []
    try:
        for order, row in [(-1, row) for row in missing] + problems:
            batch._finish(order, row)
        paired = batch.run(calls)
    finally:
        result = batch.result
        result.rows = [row for _, row in sorted(paired + batch.done, key=lambda item: item[0])]
        write_summary(result.rows, options.out_dir)
    return result


def _remove_stale_temporaries(out_dir: Path) -> None:
    """Temporary files a killed run left behind (never complete, never read)."""
    for stale in out_dir.glob(".*.tmp"):
        stale.unlink(missing_ok=True)


@dataclass
class _Decoding:
    """A call whose channels are being decoded; the last channel to finish completes it."""

    call: Call
    digest: str
    info: AudioInfo
    model_path: Path
    model: object
    speakers: dict
    plan: list[tuple[int | None, str]]  # (channel, speaker) pairs
    limit: Limit
    parts: dict[int, object] = field(default_factory=dict)
    failed: bool = False


class _Batch:
    def __init__(self, options: CheckOptions, progress: Progress | None, confirm_download=None, download_progress=None):
        self.options = options
        self.progress = progress
        self.confirm_download = None if options.offline else confirm_download
        self.download_progress = download_progress
        self.settings = options.fingerprint()
        self.result = RunResult()
        self.done: list[tuple[int, SummaryRow]] = []
        self.models: dict[str, tuple[Path, object] | ModelError] = {}
        self.cancel = threading.Event()

    def _finish(self, order: int, row: SummaryRow, audio_seconds: float = 0.0) -> None:
        self.done.append((order, row))
        if self.progress:
            self.progress.finished(row, audio_seconds)

    def run(self, calls: list[Call]) -> list[tuple[int, SummaryRow]]:
        """Rows for the paired audio files; every call's own row goes to self.done as it finishes."""
        if self.progress:
            self.progress.started(len(calls) + len(self.done))
        to_transcribe: list[tuple[Call, str]] = []
        for call in calls:
            try:
                digest = sha256_of(call.source(self.options))
            except OSError as error:
                self._finish(call.order, _error_row(call.source(self.options), call.call_id, EtiquetteError(f"cannot read: {error.strerror}")))
                continue
            unchanged = self._unchanged_report(call, digest)
            if unchanged is not None:
                self._finish(call.order, unchanged)
            elif not call.uses_audio(self.options):
                self._check_and_report(call, call.transcript, call.transcript_path, digest)
            elif (saved := self._saved_transcript(call, digest)) is not None:
                self._check_and_report(call, saved, call.audio_path, digest, transcript_path=self._transcript_path(call))
            else:
                to_transcribe.append((call, digest))
        if to_transcribe:
            self._transcribe_all(to_transcribe)
        return [
            (call.order, self._paired_row(call))
            for call in calls
            if call.audio_path and call.transcript and not self.options.retranscribe
        ]
    # -- the cheap paths

    def _paired_row(self, call: Call) -> SummaryRow:
        note = f"checked through its transcript {call.transcript_path} (use --retranscribe to transcribe the audio)"
        return SummaryRow(input=str(call.audio_path), call_id=call.call_id, status="paired", note=note)

    def _report_path(self, call: Call) -> Path:
        return self.options.out_dir / f"{call.call_id}.report.json"

    def _transcript_path(self, call: Call) -> Path:
        return self.options.out_dir / f"{call.call_id}{TRANSCRIPT_SUFFIX}"

    def _unchanged_report(self, call: Call, digest: str) -> SummaryRow | None:
        """The row for a call whose report from an earlier run is still valid, else None."""
        try:
            data = json.loads(self._report_path(call).read_text(encoding="utf-8"))
            if data.get("input_sha256") != digest or data.get("settings") != self.settings:
                return None
            summary = ReportSummary.from_json(data)
        except (OSError, ValueError, KeyError, TypeError):
            return None  # no report, or one this run cannot trust: make it again
        note = "report from an earlier run; input and rules unchanged"
        return SummaryRow(input=str(call.source(self.options)), call_id=call.call_id, status="unchanged", summary=summary, note=note)

    def _saved_transcript(self, call: Call, digest: str) -> Transcript | None:
        """A transcript an earlier run made of this very audio, with the same options."""
        if self.options.retranscribe:
            return None
        path = self._transcript_path(call)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            made = data.get("transcribed", {})
            if data.get("source_sha256") != digest or made.get("agent_channel") != self.options.agent_channel:
                return None
            if data.get("language") != self.options.language:
                return None
            saved = read_transcript(path)
            return None if is_redacted(saved) else saved  # masked words would change what the checks find
        except (OSError, ValueError, EtiquetteError):
            return None

    def _check_and_report(
        self, call: Call, transcript: Transcript, source: Path, digest: str, transcript_path: Path | None = None,
        audio_seconds: float = 0.0,
    ) -> None:
        try:
            rules = load_rules(transcript.language, self.options.rules_dir)
            checked = run_checks(transcript, rules, load_audio_rules(self.options.rules_dir))
            report = CallReport(
                transcript=transcript,
                result=checked,
                source=str(source),
                fail_on=self.options.fail_on,
                jurisdiction=rules.jurisdiction_for(transcript.language).name if rules else None,
                audio=str(call.audio_path) if call.audio_path and source != call.audio_path else None,
                transcript_path=str(transcript_path) if transcript_path else None,
                input_sha256=digest,
                settings=self.settings,
            )
            write_report(report, self.options.out_dir, redact=self.options.redact)
        except EtiquetteError as error:
            self._finish(call.order, _error_row(source, call.call_id, error), audio_seconds)
            return
        self._finish(call.order, SummaryRow(input=str(source), call_id=call.call_id, summary=report.summary()), audio_seconds)

    # -- transcription, in parallel

    def _model_for(self, language: str):
        # Imported here so that checking transcripts never pays for loading Vosk.
        from etiquette import models, transcribe

        if language not in self.models:
            try:
                choice = models.ensure_model(
                    language, explicit=self.options.model, offline=self.options.offline,
                    download=self.options.download_model and not self.options.offline,
                    confirm=self.confirm_download, progress=self.download_progress,
                )
                self.models[language] = (choice.path, transcribe.load_model(choice.path))
            except ModelError as error:
                self.models[language] = error
        found = self.models[language]
        if isinstance(found, ModelError):
            raise found
        return found

    def _transcribe_all(self, calls: list[tuple[Call, str]]) -> None:
        from etiquette import audio, transcribe

        jobs: list[_Decoding] = []
        for call, digest in calls:
            try:
                info = audio.probe(call.audio_path)  # a bad file fails here, before any model is needed
                model_path, model = self._model_for(self.options.language)
            except ModelError as error:
                self.result.model_missing = True
                self._finish(call.order, _error_row(call.audio_path, call.call_id, error))
                continue
            except EtiquetteError as error:
                self._finish(call.order, _error_row(call.audio_path, call.call_id, error))
                continue
            speakers, plan = transcribe.channel_plan(info, self.options.agent_channel)
            jobs.append(_Decoding(call, digest, info, model_path, model, speakers, plan, Limit(self.options.timeout, self.cancel)))
            if self.progress:
                self.progress.audio_queued(info.duration or 0.0)

        pending: dict[Future, tuple[_Decoding, int]] = {}
        with ThreadPoolExecutor(max_workers=max(1, self.options.jobs), thread_name_prefix="decode") as pool:
            try:
                for job in jobs:
                    for index, (channel, speaker) in enumerate(job.plan):
                        future = pool.submit(transcribe.decode_channel, job.model, job.call.audio_path, channel, speaker, limit=job.limit)
                        pending[future] = (job, index)
                while pending:
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        job, index = pending.pop(future)
                        self._channel_done(job, index, future)
            except KeyboardInterrupt:
                self.cancel.set()  # the watchdogs kill ffmpeg, so the workers return at once
                for future in pending:
                    future.cancel()
                self.result.interrupted = True
                for job in {id(job): job for job, _ in pending.values()}.values():
                    self._fail(job, Interrupted("interrupted before this call finished"))
                raise

    def _fail(self, job: _Decoding, error: EtiquetteError) -> None:
        if not job.failed:
            job.failed = True
            self._finish(job.call.order, _error_row(job.call.audio_path, job.call.call_id, error))

    def _channel_done(self, job: _Decoding, index: int, future: Future) -> None:
        from etiquette import transcribe

        if job.failed:
            return
        try:
            job.parts[index] = future.result()
        except EtiquetteError as error:
            job.limit.cancel_call()  # the other channel of a failed call is of no use
            self._fail(job, error)
            return
        if len(job.parts) < len(job.plan):
            return
        call = job.call
        try:
            transcript = transcribe.assemble(
                [job.parts[i] for i in range(len(job.plan))], job.info, job.speakers,
                call_id=call.call_id, language=self.options.language, source=call.audio_path,
            )
            path = self._transcript_path(call)
            write_transcript(redact_transcript(transcript) if self.options.redact else transcript, path, extra={
                "source_sha256": job.digest,
                "transcribed": {"model": str(job.model_path), "agent_channel": self.options.agent_channel, "etiquette": __version__},
            })
        except EtiquetteError as error:
            self._fail(job, error)
            return
        if not transcript.words:
            # A silent recording would "pass" every check; an officer needs to look at it instead.
            message = f"no speech recognised: the recording is silent, or not in '{self.options.language}' (transcript saved as {path.name})"
            self._fail(job, AudioError(message))
            return
        self._check_and_report(call, transcript, call.audio_path, job.digest, transcript_path=path, audio_seconds=transcript.duration)
