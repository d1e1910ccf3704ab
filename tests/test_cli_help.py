"""The command explains itself: help without internals, -h, clear refusals, the rules listed and tried."""

from __future__ import annotations

import pytest

from etiquette.rulebook import RULES_DIR

try:
    from cli_helpers import SAMPLES, run
except ImportError:
    from tests.cli_helpers import SAMPLES, run


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_reads_like_a_manual(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "check", flag)
    assert result.code == 0
    assert "Usage: etiquette check [OPTIONS] INPUT..." in result.out
    for internal in ("{INPUT", "<list[Path]>", "<path>", "<int range>", str(RULES_DIR), "<float range>"):
        assert internal not in result.out, internal
    assert "--language TAG" in result.out and "--fail-on SEVERITY[,incomplete]" in result.out


def test_a_language_that_is_not_a_tag_is_refused_with_examples(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "check", SAMPLES / "transcripts", "--out", tmp_path, "--language", "english")
    assert result.code == 2
    assert "'english' is not a BCP-47 language tag" in result.err and "es-MX" in result.err


def test_rules_list_the_audio_rules_too(capsys: pytest.CaptureFixture[str]) -> None:
    listed = run(capsys, "rules")
    assert listed.code == 0
    for rule in ("shouting", "talking-over", "dead-air", "threat-of-arrest"):
        assert rule in listed.out
    shown = run(capsys, "rules", "show", "shouting")
    assert shown.code == 0 and "must fire" in shown.out and "1692d" in shown.out


def test_rules_try_prints_the_findings_of_a_typed_conversation(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "rules", "try", "-l", "es-MX", "C: bueno / A: busco a tomás / C: no está, soy su hermano / "
                 "A: dígale que debe cuatro mil pesos")
    assert result.code == 0
    assert "debt-mentioned-to-third-party" in result.out and "CONDUSEF" in result.out
    clean = run(capsys, "rules", "try", "A: hi how are you today")
    assert clean.code == 0 and "no findings" in clean.out
