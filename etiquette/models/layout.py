"""What a Vosk model folder must hold, checked before Kaldi is touched (its own errors are
cryptic and printed straight to the terminal). A leaf module: everything else builds on it,
and `etiquette.transcribe` uses it (through `etiquette.models.locate`) before loading a model."""

from __future__ import annotations

from pathlib import Path


def model_layout_problem(path: Path) -> str | None:
    """What keeps `path` from being a Vosk model folder, or None when it looks like one.

    A folder that cannot be read (no permission) is a problem too, never an exception.
    """
    try:
        return check_layout(path)
    except OSError as exc:
        return f"cannot be read ({os_reason(exc)})"


def check_layout(path: Path) -> str | None:
    """`model_layout_problem`, except that an OSError (an unreadable folder) propagates."""
    if not path.is_dir():
        return "not a folder"

    def has(*names: str) -> bool:
        return any((path / name).is_file() for name in names)

    if not has("am/final.mdl", "final.mdl"):
        return "no am/final.mdl"
    if not (path / "conf").is_dir() and not has("mfcc.conf"):
        return "no conf/ folder"
    if not has("graph/HCLG.fst", "HCLG.fst") and not (
        has("graph/HCLr.fst", "HCLr.fst") and has("graph/Gr.fst", "Gr.fst")
    ):
        return "no decoding graph (graph/HCLG.fst, or graph/HCLr.fst and graph/Gr.fst)"
    return None


def os_reason(exc: OSError) -> str:
    """An OSError in a few words ("Permission denied"), without the path it names."""
    return exc.strerror or " ".join(str(exc).split())[:200] or type(exc).__name__
