"""One call's audio into a transcript: the step every way of running a batch shares.

`transcribe_call` decodes the call's channels (each on its own thread, each
holding one of the run's decoding slots while it works, so `--jobs N` means N
streams at once whatever the calls), checks the audio was complete, and
assembles the transcript, rounded as its file keeps it. The serial path, the thread pool and a cluster
worker all call it.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from etiquette import transcribe
from etiquette.audio import AudioInfo, Limit, probe
from etiquette.errors import AudioError
from etiquette.transcripts import as_stored
from etiquette.types import Transcript


@dataclass(frozen=True)
class AudioCall:
    call_id: str
    path: Path
    language: str
    agent_channel: str = "left"


def transcribe_call(
    call: AudioCall,
    model: object,
    *,
    limit: Limit | None = None,
    slots: threading.Semaphore | None = None,
    on_seconds: Callable[[float], None] | None = None,
    info: AudioInfo | None = None,
) -> Transcript:
    """Decode every channel the plan names and assemble one transcript.

    A channel that fails cancels the call's other channels (through `limit`);
    the first failure is raised.
    """
    info = info or probe(call.path)
    speakers, plan = transcribe.channel_plan(info, call.agent_channel)
    limit = limit or Limit()
    slots = slots or threading.Semaphore(1)

    def decode(channel: int | None, speaker: str) -> transcribe.ChannelTranscript:
        with slots:
            try:
                return transcribe.decode_channel(model, call.path, channel, speaker, limit=limit, on_seconds=on_seconds)
            except BaseException:
                limit.cancel_call()  # the other channel of a failed call is of no use
                raise

    if len(plan) == 1:
        parts = [decode(*plan[0])]
    else:
        with ThreadPoolExecutor(max_workers=len(plan), thread_name_prefix="channel") as channels:
            futures = [channels.submit(decode, channel, speaker) for channel, speaker in plan]
            errors = [future.exception() for future in futures]
            first = next((error for error in errors if error is not None and not _cancelled_by_sibling(error, errors)), None)
            first = first or next((error for error in errors if error is not None), None)
            if first is not None:
                raise first
            parts = [future.result() for future in futures]
    transcript = transcribe.assemble(parts, info, speakers, call_id=call.call_id, language=call.language, source=call.path)
    return as_stored(transcript)


def _cancelled_by_sibling(error: BaseException, errors: list[BaseException | None]) -> bool:
    """An Interrupted raised because the other channel failed is not the call's real failure."""
    from etiquette.errors import Interrupted

    return isinstance(error, Interrupted) and any(e is not None and not isinstance(e, Interrupted) for e in errors)


def silent(transcript: Transcript, language: str, saved_as: str) -> AudioError:
    return AudioError(
        f"no speech recognised: the recording is silent, or not in '{language}' (transcript saved as {saved_as})"
    )
