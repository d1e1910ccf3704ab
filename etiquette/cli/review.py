"""`etiquette review`: start the review app on the results database and say where it is."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from etiquette.cli.console import out, safe


def review_command(
    out_dir: Annotated[Optional[Path], typer.Argument(metavar="OUT_DIR", show_default=False,
                                                      help="A run's output folder: reviews OUT_DIR/results.db.")] = None,
    db: Annotated[Optional[str], typer.Option("--db", metavar="URL", show_default=False,
                                              help="The results database instead: a SQLAlchemy URL "
                                              "(postgresql+psycopg://user@host/db) or a file.")] = None,
    host: Annotated[str, typer.Option("--host", metavar="H", help="The address to listen on. Anything but this machine "
                                      "(127.0.0.1) needs an access token: one is made up and printed, or "
                                      "given with --token-file.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", metavar="N", min=0, max=65535,
                                      help="The port to listen on (0: any free one).")] = 8765,
    token_file: Annotated[Optional[Path], typer.Option("--token-file", metavar="FILE", show_default=False,
                                                       help="Read the access token from FILE (one line, at least 16 "
                                                       "characters); every request must then carry it.")] = None,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open the default browser.")] = False,
) -> None:
    """Review the calls in a results database in the browser: listen to each finding, decide whether it is right
    (confirmed, false positive, needs coaching), and see the field precision of each rule. The decisions are kept
    in the database against each finding's stable id, so a re-run keeps them. Runs until Ctrl-C."""
    from etiquette.db import DEFAULT_NAME, database_url
    from etiquette.review.app import create_app
    from etiquette.review.library import Library
    from etiquette.review.media import Recordings
    from etiquette.review.security import new_token
    from etiquette.review.server import Address, access_token, bind, open_browser, serve

    if (out_dir is None) == (db is None):
        raise typer.BadParameter("give a run's output folder or --db URL (one of them)", param_hint="OUT_DIR")
    where = db if db is not None else str(out_dir / DEFAULT_NAME)  # type: ignore[operator]
    url = database_url(where)
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_file():
        raise typer.BadParameter(f"no results database at {where} (a run writes OUT/results.db)",
                                 param_hint="--db" if db is not None else "OUT_DIR")
    token = access_token(host, token_file)
    sock = bind(host, port)
    address = Address(host, sock.getsockname()[1], token)
    library = Library(where)
    recordings = Recordings()
    app = create_app(library, recordings, new_token(), token, address.local)

    def ready() -> None:
        shown_url = address.url(with_token=token_file is None)
        out.print(f"etiquette review of {safe(library.shown)} at {shown_url} (Ctrl-C to stop)", soft_wrap=True,
                  highlight=False)
        if token_file is not None:
            out.print("every request must carry the access token in --token-file", highlight=False)
        if library.problem:
            out.print(f"the pages say why the database cannot be reviewed: {safe(library.problem)}", soft_wrap=True,
                      highlight=False)
        if not no_browser:
            open_browser(address.url(with_token=True))

    try:
        serve(app, sock, ready)
    finally:
        sock.close()
        library.close()
        recordings.close()
