"""Running a batch: inputs -> calls -> transcripts -> checks -> writers (see run.py)."""

from etiquette.pipeline.decoding import ClusterLost
from etiquette.pipeline.options import CheckOptions
from etiquette.pipeline.plan import AUDIO_SUFFIXES, PlannedCall, shown
from etiquette.pipeline.run import Progress, RunResult, run_batch, sha256_of

__all__ = ["AUDIO_SUFFIXES", "CheckOptions", "ClusterLost", "PlannedCall", "Progress", "RunResult", "run_batch", "sha256_of", "shown"]
