"""`etiquette rules`: list the rules, show one in full, or try them on a conversation you type."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from etiquette.checks import run_checks
from etiquette.cli.command import ManualCommand
from etiquette.cli.console import language_tag, out, safe
from etiquette.registry import REGISTRY
from etiquette.rulebook import RULES_DIR, Rule, RuleSet, available_languages, load_audio_rules, load_rules
from etiquette.scenarios import ScenarioError, conversation

rules_app = typer.Typer(
    help="List the rules the checks apply, show one with its examples, or try them on a conversation.",
    no_args_is_help=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

RulesDir = Annotated[
    Path, typer.Option("--rules", metavar="DIR", exists=True, file_okay=False, show_default=False,
                       help="Folder of rule files to read instead of the built-in ones.")
]


def _all_rules(rules_dir: Path, language: str | None = None) -> list[tuple[str, Rule, RuleSet | None]]:
    """(language, rule, its rule set) for every language rule, then the rules measured from the audio."""
    found: list[tuple[str, Rule, RuleSet | None]] = []
    for code in [language] if language else available_languages(rules_dir):
        ruleset = load_rules(code, rules_dir)
        if ruleset is None:
            raise typer.BadParameter(f"no rule file for {code!r} (there are: {', '.join(available_languages(rules_dir))})",
                                     param_hint="--language")
        found += [(ruleset.language, rule, ruleset) for rule in ruleset.rules]
    found += [("any", rule, None) for rule in load_audio_rules(rules_dir).rules]
    return found


@rules_app.callback(invoke_without_command=True)
def rules_list(
    ctx: typer.Context,
    language: Annotated[Optional[str], typer.Option("--language", "-l", metavar="TAG", help="Only this language's rules.")] = None,
    rules: RulesDir = RULES_DIR,
) -> None:
    """List every rule: id, check, severity, language, message and citation."""
    if ctx.invoked_subcommand is not None:
        return
    table = Table(show_lines=False)
    for column in ("id", "check", "severity", "lang", "message", "reference"):
        table.add_column(column, overflow="fold", no_wrap=column in ("id", "check", "severity", "lang"))
    order = {name: n for n, name in enumerate(REGISTRY.names())}
    for code, rule, _ in sorted(_all_rules(rules, language), key=lambda item: (order.get(item[1].check, 99), item[0])):
        references = "; ".join(f"{j}: {ref}" for j, ref in rule.references.items())
        table.add_row(safe(rule.id), safe(rule.check), rule.severity.value, code, safe(rule.message), safe(references))
    out.print(table)


@rules_app.command("show", cls=ManualCommand)
def rules_show(
    rule_id: Annotated[str, typer.Argument(help="A rule id from `etiquette rules`.", metavar="RULE_ID")],
    rules: RulesDir = RULES_DIR,
) -> None:
    """Show one rule in full, with the examples that must fire and must not."""
    found = [(code, rule, ruleset) for code, rule, ruleset in _all_rules(rules) if rule.id == rule_id]
    if not found:
        raise typer.BadParameter(f"no rule {rule_id!r}; `etiquette rules` lists them", param_hint="RULE_ID")
    for code, rule, ruleset in found:
        out.print(f"[bold]{safe(rule.id)}[/] ({code}) check={safe(rule.check)} severity={rule.severity.value}")
        out.print(f"  {safe(rule.message)}")
        if rule.why:
            out.print(f"  why: {safe(' '.join(rule.why.split()))}")
        if rule.false_positives:
            out.print(f"  known false positives: {safe(rule.false_positives)}")
        for jurisdiction, reference in rule.references.items():
            name = ruleset.jurisdictions[jurisdiction].name if ruleset and jurisdiction in ruleset.jurisdictions else jurisdiction
            out.print(f"  reference ({safe(name)}): {safe(reference)}")
        for title, examples in (("must fire", rule.fire), ("must not fire", rule.pass_)):
            for example in examples:
                out.print(f"  {title}: " + safe(example.replace("\n", " / ")))


@rules_app.command("try", cls=ManualCommand)
def rules_try(
    text: Annotated[str, typer.Argument(help='A conversation: "A: ..." for the agent, "C: ..." for the other party, '
                                        'turns separated by " / " or new lines.', metavar="CONVERSATION")],
    language: Annotated[str, typer.Option("--language", "-l", metavar="TAG", help="Its language and region.")] = "en",
    rules: RulesDir = RULES_DIR,
) -> None:
    """Run every check on a conversation you type and print what it finds, and why."""
    tag = language_tag(language)
    try:
        transcript = conversation(text, tag, call_id="try")
    except ScenarioError as error:
        raise typer.BadParameter(str(error), param_hint="CONVERSATION") from None
    ruleset = load_rules(tag, rules)
    result = run_checks(transcript, ruleset, load_audio_rules(rules))
    if ruleset is not None:
        out.print(f"{tag}: rules of {safe(ruleset.jurisdiction_for(tag).name)}")
    for finding in result.findings:
        out.print(f"[bold]{safe(finding.check)}[/] {safe(finding.rule)} ({finding.severity.value}) "
                  f"at {finding.start:.1f}-{finding.end:.1f} s: “{safe(finding.evidence)}”")
        out.print(f"  {safe(finding.message)}")
        if finding.explanation:
            out.print(f"  why: {safe(finding.explanation)}")
        if finding.reference:
            out.print(f"  citation: {safe(finding.reference)}")
    if not result.findings:
        out.print("no findings")
    for skipped in result.skipped:
        out.print(f"not checked: {safe(skipped.check)} ({safe(skipped.reason)})")
