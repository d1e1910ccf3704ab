"""Running a batch: plan the calls, transcribe what needs it, check, hand every call to the writers.

Resuming. Every call is checked again from its transcript (checking is cheap);
a call whose report from an earlier run says exactly the same is `unchanged`
and its file is left alone. A transcript this tool wrote records the SHA-256
of its audio, so a re-run never transcribes the same audio twice.

Parallel work. Transcription is the cost: calls are decoded on worker threads
(Vosk releases the GIL), all sharing one loaded model per language and at most
`jobs` channels decoding at once, or on the workers of a Dask cluster
(`--cluster`; see decoding.py). Checking and writing happen on the calling
thread, one call at a time, so the outputs do not depend on the number of
workers, nor on where they are.
"""

from __future__ import annotations

import hashlib
import json
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Protocol

from etiquette import __version__
from etiquette.audio import probe
from etiquette.errors import EtiquetteError, Interrupted, ModelError
from etiquette.models.locate import MODELS_URL
from etiquette.files import RunLock, atomic_write_text, describe_os_error, same_text, stored_path
from etiquette.outcome import BatchTotals, CallOutcome, ExitStatus, Status
from etiquette.pipeline.checking import Checker
from etiquette.pipeline.decoding import ClusterLost, DecodeJob, Decoded, Decoders, ThreadDecoders
from etiquette.pipeline.book import CallBook, open_run_book
from etiquette.pipeline.options import CheckOptions
from etiquette.pipeline.outputs import Outputs
from etiquette.pipeline.plan import PlannedCall, plan, shown
from etiquette.pipeline.transcription import AudioCall, silent
from etiquette.redact import is_redacted, redact_report, redact_transcript
from etiquette.report import CallReport, render_report
from etiquette.rulebook import available_languages, load_audio_rules, load_rules
from etiquette.transcripts import SUFFIX as TRANSCRIPT_SUFFIX
from etiquette.transcripts import read_transcript, transcript_to_json
from etiquette.types import Transcript
from etiquette.writers import WriterOptions, writers_for
from etiquette.writers.report_json import report_path


class Progress(Protocol):
    """What a run tells the terminal while it works."""

    def started(self, calls: int) -> None: ...

    def audio_queued(self, seconds: float) -> None: ...

    def decoded(self, seconds: float) -> None: ...  # from worker threads, as audio is decoded

    def finished(self, outcome: CallOutcome) -> None: ...


@dataclass
class RunResult:
    totals: BatchTotals
    status: ExitStatus
    written: list[Path] = field(default_factory=list)
    model_message: str | None = None  # why audio could not be transcribed, said once
    output_errors: list[str] = field(default_factory=list)
    metadata_problems: list[str] = field(default_factory=list)  # manifest rows (or `call` objects) that could not be used

    @property
    def exit_code(self) -> int:
        return self.status.code


def sha256_of(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def run_batch(
    inputs: Iterable[Path],
    options: CheckOptions,
    progress: Progress | None = None,
    confirm_download: Callable[[object], bool] | None = None,
    download_progress: Callable[[str, int, int | None], None] | None = None,
    status: ExitStatus | None = None,
) -> RunResult:
    """Check every call; every input ends up as one row of the summary.

    With no speech model installed for the audio's language, `confirm_download`
    (asked with the catalogue entry) may agree to download one; it is never
    asked when `options.offline`. `status` (the command's) is kept up to date as calls finish.
    """
    load_audio_rules(options.rules_dir)  # a broken rule file stops the run here, in one line
    for language in available_languages(options.rules_dir):
        load_rules(language, options.rules_dir)
    planned = plan(inputs, options.out_dir)
    options.out_dir.mkdir(parents=True, exist_ok=True)
    with RunLock(options.out_dir):
        book, calls_book = open_run_book(options, planned.calls)
        try:
            try:
                batch = _Batch(options, progress, None if options.offline else confirm_download, download_progress,
                               status, calls_book, book)
            except OSError as error:  # not even an empty temporary file: nothing can be written there
                raise EtiquetteError(f"cannot write in {shown(options.out_dir)}: {describe_os_error(error)}") from None
            batch.result.metadata_problems = [str(problem) for problem in calls_book.problems]
            try:
                batch.run(planned.calls, planned.problems)
            finally:
                batch.finish()
        finally:
            book.close()
    return batch.result


class _Batch:
    def __init__(self, options: CheckOptions, progress: Progress | None, confirm_download, download_progress,
                 status: ExitStatus | None, calls_book: CallBook, book):
        self.options = options
        self.progress = progress
        self.confirm_download = confirm_download
        self.download_progress = download_progress
        self.settings = options.fingerprint()
        self.result = RunResult(BatchTotals(), status or ExitStatus(options.fail_on))
        self.calls_book = calls_book
        self.outputs = Outputs(writers_for(list(options.formats), WriterOptions(options.out_dir, options.redact,
                                                                                options.rules_dir, book)), self.result.status)
        self.models: dict[str, tuple[Path, object] | ModelError] = {}
        self._first_without_model: Path | None = None
        self.checker = Checker(options.rules_dir, options.timeout)  # in a worker process with --timeout

    # -- handing calls to the writers

    def deliver(self, outcome: CallOutcome, announce: bool = True) -> None:
        if outcome.report is not None and self.options.redact:
            outcome = replace(outcome, report=redact_report(outcome.report))
        outcome = self.outputs.add(outcome)
        light = outcome if outcome.report is None else CallOutcome(
            outcome.input, outcome.call_id, outcome.order, outcome.status, outcome.report.without_transcript_words(),
            outcome.error, outcome.note)
        self.result.totals.add(light)
        self.result.status.call_done(light)
        if self.progress and announce:  # the progress prints a failed call's line
            self.progress.finished(light)

    def finish(self) -> None:
        self.checker.close()
        self.result.written += self.outputs.finish(self.result.totals)
        self.result.output_errors = self.outputs.errors

    # -- the calls

    def run(self, calls: list[PlannedCall], problems: list[CallOutcome]) -> None:
        if self.progress:
            self.progress.started(len(calls) + len(problems))
        for problem in problems:
            self.deliver(problem)
        to_transcribe: list[tuple[PlannedCall, str]] = []
        retranscribe = self.options.retranscribe
        for call in calls:
            source = call.source(retranscribe)
            try:
                digest = sha256_of(source)
            except OSError as error:
                self.deliver(self._error(call, source, EtiquetteError(f"cannot read: {error.strerror or error}")))
                continue
            if not call.uses_audio(retranscribe):
                self._guarded(call, source, lambda: read_transcript(source), digest)
                continue
            try:
                saved = self._saved_transcript(call, digest)
            except EtiquetteError as error:
                self.deliver(self._error(call, source, error))
                continue
            if saved is not None:
                self._guarded(call, source, lambda saved=saved: saved, digest, transcript_path=self._transcript_path(call))
            else:
                to_transcribe.append((call, digest))
        for call in calls:  # before the decoding, which an interruption or a lost cluster may cut short
            if call.audio_path and call.transcript_path and not retranscribe:
                note = (f"checked through its transcript {shown(call.transcript_path)} "
                        "(use --retranscribe to transcribe the audio)")
                self.deliver(CallOutcome(shown(call.audio_path), call.call_id, call.order, Status.PAIRED, note=note))
        if to_transcribe:
            self._transcribe_all(to_transcribe)

    def _error(self, call: PlannedCall, source: Path, error: Exception) -> CallOutcome:
        status = Status.INTERRUPTED if isinstance(error, Interrupted) else Status.ERROR
        return CallOutcome(shown(source), call.call_id, call.order, status, error=str(error))

    def _guarded(self, call: PlannedCall, source: Path, transcript: Callable[[], Transcript], digest: str,
                 transcript_path: Path | None = None, budget: float | None = None) -> None:
        """Check one call (within `budget` seconds, what is left of its --timeout); anything that goes
        wrong is that call's error, never the batch's."""
        try:
            outcome = self._check(call, source, transcript(), digest, transcript_path, budget)
        except EtiquetteError as error:
            outcome = self._error(call, source, error)
        except Exception as error:  # a bug: this call fails, the batch goes on
            if self.options.debug:
                traceback.print_exc()
            outcome = self._error(call, source, EtiquetteError(
                f"internal error while checking this call ({type(error).__name__}); run again with --debug for the traceback"))
        self.deliver(outcome)

    def _check(self, call: PlannedCall, source: Path, transcript: Transcript, digest: str,
               transcript_path: Path | None, budget: float | None) -> CallOutcome:
        if not transcript.words:
            # Nothing said is nothing checked: a silent call must never read as a pass.
            raise EtiquetteError("the transcript has no words: nothing to check (a silent or empty recording?)")
        rules = load_rules(transcript.language, self.options.rules_dir)
        metadata, broken = self.calls_book.facts(call.call_id)
        checked = self.checker.check(transcript, budget, metadata, self.calls_book.history(metadata), broken)
        report = CallReport(
            transcript=transcript,
            result=checked,
            source=shown(source),
            fail_on=self.options.fail_on,
            jurisdiction=rules.jurisdiction_for(transcript.language).name if rules else None,
            audio=shown(call.audio_path) if call.audio_path and source != call.audio_path else None,
            transcript_path=shown(transcript_path) if transcript_path else None,
            input_sha256=digest,
            settings=self.settings,
            metadata=metadata,
        )
        written = redact_report(report) if self.options.redact else report
        path = report_path(self.options.out_dir, call.call_id)
        text = render_report(written)
        status = Status.UNCHANGED if same_text(path, text) else Status.OK
        note = "its report from an earlier run says the same" if status is Status.UNCHANGED else None
        return CallOutcome(shown(source), call.call_id, call.order, status, report, note=note,
                           report_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
                           recording=stored_path(call.audio_path),
                           transcript_file=stored_path(transcript_path or (source if source != call.audio_path else None)))

    # -- transcripts saved by earlier runs

    def _transcript_path(self, call: PlannedCall) -> Path:
        return self.options.out_dir / f"{call.call_id}{TRANSCRIPT_SUFFIX}"

    def _saved_transcript(self, call: PlannedCall, digest: str) -> Transcript | None:
        """A transcript an earlier run made of this very audio, with the same options, unmasked."""
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
        except (OSError, ValueError, AttributeError, EtiquetteError):
            return None
        if is_redacted(saved):
            return None  # masked words would change what the checks find
        if self.options.redact:  # this run writes nothing unmasked: mask the saved copy first
            try:
                self._save_transcript(call, saved, digest, data.get("transcribed", {}).get("model", ""))
            except OSError as error:
                raise EtiquetteError(f"cannot mask its saved transcript ({describe_os_error(error)})") from None
        return saved

    def _save_transcript(self, call: PlannedCall, transcript: Transcript, digest: str, model: str) -> Path:
        path = self._transcript_path(call)
        written = redact_transcript(transcript) if self.options.redact else transcript
        extra = {"source_sha256": digest,
                 "transcribed": {"model": model, "agent_channel": self.options.agent_channel, "etiquette": __version__}}
        atomic_write_text(path, transcript_to_json(written, extra))
        return path

    # -- transcription: in parallel, here or on a cluster

    def _model_for(self, language: str) -> tuple[Path, object]:
        from etiquette import models, transcribe  # here: checking transcripts never pays for loading Vosk

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

    def _decoders(self) -> Decoders:
        on_seconds = self.progress.decoded if self.progress else None
        if self.options.cluster is None:
            return ThreadDecoders(self.options.jobs, self.options.timeout, self._model_for, on_seconds)
        from etiquette.pipeline.cluster import ClusterDecoders  # here: Dask is imported only for --cluster

        return ClusterDecoders(self.options, on_seconds)

    def _transcribe_all(self, calls: list[tuple[PlannedCall, str]]) -> None:
        left = {call.call_id: call for call, _ in calls}  # not handed to the writers yet
        try:
            jobs = [job for job in (self._probed(call, digest, left) for call, digest in calls) if job is not None]
            if not jobs:
                return  # no audio left to decode: no threads, no cluster
            if self.options.cluster is not None:  # a worker takes a whole call: longest first, so the last ones are short
                jobs.sort(key=lambda job: job.info.duration or 0.0, reverse=True)
            decoders = self._decoders()
            try:
                for job in jobs:
                    if not self._submit(decoders, job):
                        del left[job.call.call_id]
                for job, result in decoders.completed():
                    del left[job.call.call_id]
                    self._transcribed(job, result)
            except KeyboardInterrupt:
                decoders.interrupt()
                raise
            finally:
                decoders.close()
        except KeyboardInterrupt:
            self.result.status.interrupted = True
            for call in left.values():
                self.deliver(self._error(call, call.audio_path, Interrupted("interrupted before this call finished")))
            raise
        except ClusterLost as lost:
            # One line for the run, not one per call: the summary lists the calls, and the same command finishes them.
            for call in left.values():
                self.deliver(self._error(call, call.audio_path, Interrupted(f"not transcribed: {lost}")), announce=False)
            raise ClusterLost(f"{lost}; {len(left)} call(s) not transcribed (listed as interrupted in summary.csv): "
                              "finished calls are kept, run the same command again to finish the rest") from None

    def _probed(self, call: PlannedCall, digest: str, left: dict[str, PlannedCall]) -> DecodeJob | None:
        """The call ready to decode, or None when its audio failed (and the call was delivered) already."""
        try:
            info = probe(call.audio_path)  # a bad file fails here, before any model is needed
        except EtiquetteError as error:
            self.deliver(self._error(call, call.audio_path, error))
            del left[call.call_id]
            return None
        return DecodeJob(call, digest, info, AudioCall(call.call_id, call.audio_path, self.options.language,
                                                        self.options.agent_channel))

    def _submit(self, decoders: Decoders, job: DecodeJob) -> bool:
        """Hand the job to the decoders; False when it failed (and was delivered) already."""
        try:
            decoders.submit(job)
        except ModelError as error:  # no model for the language here (with threads; a worker's comes with its result)
            self._model_missing(job.call, job.audio.path, error)
            return False
        if self.progress:
            self.progress.audio_queued(job.info.duration or 0.0)
        return True

    def _model_missing(self, call: PlannedCall, audio: Path, error: ModelError) -> None:
        """The whole story once, on the first call that needs the model; a short line for the others."""
        self.result.status.model_missing = True
        if self.result.model_message is None:
            self.result.model_message = str(error)
            self._first_without_model = audio
            self.deliver(self._error(call, audio, error))
            return
        self.deliver(self._error(call, audio, EtiquetteError(
            f"no Vosk model for language '{self.options.language}' (the line for {shown(self._first_without_model)} says "
            f"where etiquette looked; models are at {MODELS_URL})")))

    def _transcribed(self, job: DecodeJob, result: Decoded | BaseException) -> None:
        call, audio = job.call, job.audio.path
        if isinstance(result, ModelError):  # from a cluster worker that has no model
            self._model_missing(call, audio, result)
            return
        try:
            if isinstance(result, BaseException):
                raise result
            path = self._save_transcript(call, result.transcript, job.digest, result.model)
        except EtiquetteError as error:
            self.deliver(self._error(call, audio, error))
            return
        except OSError as error:
            self.deliver(self._error(call, audio, EtiquetteError(f"cannot save its transcript ({describe_os_error(error)})")))
            return
        except Exception as error:
            if self.options.debug:
                traceback.print_exception(error)
            self.deliver(self._error(call, audio, EtiquetteError(
                f"internal error while transcribing this call ({type(error).__name__}); run again with --debug")))
            return
        if not result.transcript.words:
            # A silent recording would "pass" every check; an officer needs to look at it instead.
            self.deliver(self._error(call, audio, silent(result.transcript, self.options.language, path.name)))
            return
        self._guarded(call, audio, lambda: result.transcript, job.digest, transcript_path=path, budget=result.budget)
