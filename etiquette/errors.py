"""Known failures. Each one becomes a single line on stderr: `file: what went wrong`.

Messages must never quote a transcript's words: they end up in logs, and the
words are personal data.
"""


class EtiquetteError(Exception):
    """A failure we can explain in one line; anything else is a bug."""


class InputError(EtiquetteError):
    """An input file cannot be used (unreadable, wrong format, malformed)."""


class AudioError(InputError):
    """ffmpeg could not decode the audio, or it holds no usable sound."""


class TranscriptError(InputError):
    """A transcript file does not follow the contract's schema."""


class ModelError(EtiquetteError):
    """No usable Vosk model: where we looked, and how to get one."""


class RulesError(EtiquetteError):
    """A rule file is malformed."""


class ModelNotFoundError(ModelError):
    """No model for the language in any of the places searched (as opposed to a named place that is broken)."""


class ModelDownloadError(ModelError):
    """A model could not be fetched: offline, unreachable server, HTTP error, interrupted transfer."""


class ModelArchiveError(ModelError):
    """A model archive or folder cannot be installed: wrong size or checksum, unsafe or damaged zip, not a model."""


class CallTimeout(InputError):
    """A call took longer than --timeout and was stopped."""


class Interrupted(EtiquetteError):
    """The run was interrupted (Ctrl-C) before this call finished."""


class NothingToCheck(InputError):
    """The inputs hold no audio or transcript files."""
