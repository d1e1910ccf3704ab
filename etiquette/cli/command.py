"""Help that reads like a manual page: `INPUT...` in the usage line, no Python types."""

from __future__ import annotations

from typer.core import TyperCommand


def _argument_name(param) -> str:
    name = param.metavar or (param.name or "").upper()
    name += "..." if param.nargs != 1 else ""
    return name if param.required else f"[{name}]"


class ManualCommand(TyperCommand):
    def collect_usage_pieces(self, ctx) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        return pieces + [_argument_name(p) for p in self.get_params(ctx) if p.param_type_name == "argument"]

    def format_options(self, ctx, formatter) -> None:
        params = self.get_params(ctx)
        arguments = [(_argument_name(p), p.help or "") for p in params if p.param_type_name == "argument"]
        if arguments:
            with formatter.section("Arguments"):
                formatter.write_dl(arguments)
        options = [record for p in params if p.param_type_name == "option" and (record := p.get_help_record(ctx))]
        if options:
            with formatter.section("Options"):
                formatter.write_dl(options)
