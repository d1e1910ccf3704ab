#!/usr/bin/env bash
# Re-make the sample calls from samples/scenarios/*.call:
#   transcripts/<id>.transcript.json and labels.json  (with the eval kit's scenario.py)
#   audio/<id>.flac                                   (stereo speech from make_audio.py)
#
#   samples/remake.sh [PATH/TO/scenario.py]
#
# scenario.py lives outside this repository (default: ../shared/eval/scenario.py
# next to the checkout), so its output is committed rather than made at build time.
# Needs espeak-ng and sox on PATH and the project's .venv (make samples sets both up).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
scenario="${1:-$root/../shared/eval/scenario.py}"
python="$root/.venv/bin/python"

[ -f "$scenario" ] || { echo "remake.sh: scenario.py not found at $scenario (pass its path)" >&2; exit 2; }
[ -x "$python" ] || { echo "remake.sh: $python missing; run 'make samples' first" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$python" "$scenario" "$work" "$here"/scenarios/*.call
mkdir -p "$here/transcripts" "$here/audio"
rm -f "$here"/transcripts/*.transcript.json "$here"/audio/*.flac
mv "$work"/*.transcript.json "$here/transcripts/"
mv "$work/labels.json" "$here/labels.json"

ffmpeg="$("$python" -c 'from etiquette.audio import ffmpeg_exe; print(ffmpeg_exe())')"
for transcript in "$here"/transcripts/*.transcript.json; do
    id="$(basename "$transcript" .transcript.json)"
    "$python" "$here/make_audio.py" "$work/$id.wav" "$transcript"
    # FLAC, 16 kHz, 16-bit, left = agent, right = customer: lossless and about a third of the WAV.
    "$ffmpeg" -nostdin -hide_banner -loglevel error -y -i "$work/$id.wav" \
        -ar 16000 -sample_fmt s16 -c:a flac -compression_level 12 "$here/audio/$id.flac"
done
du -ch "$here"/audio/*.flac | tail -n 1
