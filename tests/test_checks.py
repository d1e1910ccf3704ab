"""The checks on hand-built transcripts: what fires, what stays quiet, and why."""

from __future__ import annotations

import pytest

from etiquette.checks import run_checks
from etiquette.rulebook import example_transcript, load_rules
from etiquette.types import MIXED_SPEAKER, Role, Speaker, Transcript, Word

FILLER = {"en": "and the payment options we have for you today are".split(), "es": "y las opciones de pago que tenemos para usted hoy son".split()}


def speech(speaker: str, start: float, seconds: float, wpm: float, language: str = "en") -> list[Word]:
    """Words evenly spaced at `wpm` words a minute, like a steady speaker."""
    count = int(round(seconds * wpm / 60))
    step = 60.0 / wpm
    vocabulary = FILLER[language]
    return [
        Word(vocabulary[i % len(vocabulary)], round(start + i * step, 3), round(start + i * step + step * 0.85, 3), 0.95, speaker)
        for i in range(count)
    ]


def call(words: list[Word], language: str = "en", speakers: dict | None = None) -> Transcript:
    words = sorted(words, key=lambda w: w.start)
    return Transcript(
        call_id="t",
        language=language,
        duration=max(w.end for w in words) + 1,
        speakers=speakers or {"agent": Speaker(Role.AGENT, 0), "customer": Speaker(Role.CUSTOMER, 1)},
        words=tuple(words),
    )


def checks_raised(transcript: Transcript) -> set[str]:
    return {f.check for f in run_checks(transcript, load_rules(transcript.language)).findings}


# -- speaking rate ------------------------------------------------------------

@pytest.mark.parametrize("language, wpm", [("en", 250), ("es", 260)])
def test_sustained_fast_agent_is_flagged_with_metrics(language, wpm):
    transcript = call(speech("agent", 1, 5, 150, language) + speech("agent", 6, 40, wpm, language), language)
    result = run_checks(transcript, load_rules(language))
    rate = [f for f in result.findings if f.check == "speaking_rate"]
    assert len(rate) == 1
    assert 4 <= rate[0].start < 8 and rate[0].end > 40  # the fast speech starts at 6 s
    assert result.metrics["agent"]["max_window_wpm"] >= wpm - 15
    # explained in the call's own language
    assert ("words a minute" if language == "en" else "palabras por minuto") in rate[0].explanation


@pytest.mark.parametrize("language", ["en", "es"])
def test_normal_pace_is_not_flagged(language):
    transcript = call(speech("agent", 0, 90, 160, language), language)
    result = run_checks(transcript, load_rules(language))
    assert "speaking_rate" not in {f.check for f in result.findings}
    assert 150 <= result.metrics["agent"]["wpm"] <= 170


def test_short_burst_inside_normal_speech_is_not_flagged():
    words = speech("agent", 0, 20, 150) + speech("agent", 20.2, 9, 320) + speech("agent", 29.5, 30, 150)
    assert "speaking_rate" not in checks_raised(call(words))


def test_the_other_party_talking_fast_is_not_the_agent():
    words = speech("agent", 0, 10, 150) + speech("customer", 12, 60, 280) + speech("agent", 75, 20, 150)
    assert "speaking_rate" not in checks_raised(call(words))


def test_fast_turns_split_by_the_customer_are_joined():
    """The other party's turns are not counted: three 15 s fast turns make 45 s of fast speech."""
    words = []
    for n in range(3):
        words += speech("agent", n * 25, 15, 250) + speech("customer", n * 25 + 16, 6, 140)
    assert "speaking_rate" in checks_raised(call(words))


def test_long_pauses_do_not_make_normal_speech_fast_or_slow():
    words = []
    for n in range(8):  # 8 s of speech, then 6 s of silence, at a normal pace
        words += speech("agent", n * 14, 8, 160)
    result = run_checks(call(words), load_rules("en"))
    assert "speaking_rate" not in {f.check for f in result.findings}
    assert result.metrics["agent"]["speaking_time"] == pytest.approx(64, abs=3)  # silences over 2 s are not speech


def test_rate_just_under_the_threshold_is_not_flagged():
    threshold = load_rules("en").rate.threshold_wpm
    assert "speaking_rate" not in checks_raised(call(speech("agent", 0, 60, threshold - 12)))
    assert "speaking_rate" in checks_raised(call(speech("agent", 0, 60, threshold + 12)))


# -- who said it --------------------------------------------------------------

@pytest.mark.parametrize(
    "language, text",
    [("en", "A: hi is this dana\nC: yes speaking\nA: thanks dana i'm calling about your balance\nC: you're a liar and a f***ing deadbeat collector go to hell"),
     ("es", "A: hablo con dana\nC: si con ella habla\nA: gracias le llamo por su saldo\nC: usted es un pinche ratero sinverguenza vayase a la mierda")],
)
def test_the_customers_insults_are_not_the_agents(language, text):
    assert "aggressive_language" not in checks_raised(example_transcript(text, language))


def test_mono_recordings_skip_speaker_checks_and_say_why():
    words = [Word(w, i * 0.4, i * 0.4 + 0.3, 0.9, MIXED_SPEAKER) for i, w in enumerate("you owe the balance you deadbeat".split())]
    transcript = Transcript("m", "en", 5.0, {MIXED_SPEAKER: Speaker(Role.UNKNOWN)}, tuple(words))
    result = run_checks(transcript, load_rules("en"))
    assert {s.check for s in result.skipped} == {"speaking_rate", "third_party_disclosure", "interruptions",
                                                 "required_disclosure", "ignored_request"}
    assert any("speaker attribution unavailable" in note for note in result.notes)
    assert {f.check for f in result.findings} == {"aggressive_language"}
    assert result.findings[0].speaker == MIXED_SPEAKER


def test_a_language_without_rules_is_reported_not_checked():
    transcript = call(speech("agent", 0, 10, 150), language="ko")
    result = run_checks(transcript, load_rules("ko"))
    assert result.findings == ()
    assert {s.check for s in result.skipped} == {"speaking_rate", "third_party_disclosure", "aggressive_language",
                                                 "required_disclosure", "ignored_request"}
    assert all("no rule file" in s.reason for s in result.skipped)


# -- jurisdiction settings ----------------------------------------------------

SPOUSE_EN = "C: hello\nA: may i speak with tom reyes\nC: he's at work this is his wife\nA: okay he has a past due balance of four hundred dollars"
SPOUSE_ES = "C: bueno\nA: se encuentra el senor tomas reyes\nC: no esta soy su esposa\nA: bueno pues tiene un saldo vencido de cuatro mil pesos"


def test_spouse_is_the_consumer_in_the_us():
    assert "third_party_disclosure" not in checks_raised(example_transcript(SPOUSE_EN, "en-US"))


def test_spouse_is_a_third_party_in_mexico():
    assert "third_party_disclosure" in checks_raised(example_transcript(SPOUSE_ES, "es-MX"))


def test_findings_carry_evidence_times_and_the_jurisdictions_citation():
    text = "C: hello\nA: is tom there\nC: no he's at work i'm his brother\nA: tell him he owes four hundred dollars on his car loan"
    for tag, citation in (("en", "1692c(b)"),):
        finding = run_checks(example_transcript(text, tag), load_rules(tag)).findings[0]
        assert finding.rule == "debt-mentioned-to-third-party"
        assert "owes" in finding.evidence and citation in finding.reference
        assert finding.start < finding.end and finding.speaker == "agent"
        assert "not the debtor" in finding.explanation or "someone other" in finding.explanation
    es = "C: alo\nA: busco a tomas\nC: no esta soy su hermano\nA: digale que debe cuatro mil pesos"
    assert "Ley 29571" in run_checks(example_transcript(es, "es-PE"), load_rules("es")).findings[0].reference
    assert "19.496" in run_checks(example_transcript(es, "es-CL"), load_rules("es")).findings[0].reference


def test_disclosure_reopens_after_the_phone_changes_hands():
    text = ("C: hello\nA: is this ana diaz\nC: yes speaking\nA: thanks ana can you confirm your date of birth\n"
            "C: march third nineteen eighty\nA: thank you your balance is two hundred dollars\n"
            "C: hold on let me put my daughter on she handles this\nA: hi so the balance is two hundred dollars and it is past due")
    result = run_checks(example_transcript(text, "en"), load_rules("en"))
    disclosures = [f for f in result.findings if f.check == "third_party_disclosure"]
    assert len(disclosures) == 1 and "handed" in disclosures[0].explanation
