"""The review app's pages (Starlette): the calls, a call, decisions, the recordings, the export and precision.

Pages are rendered on the server from Jinja2 templates with autoescaping (a call's page includes the same
call template as the static report); forms are plain HTML forms that work without script; `review.js` adds
playing from a word or a finding and highlights the word being spoken. Handlers that read the database are
plain functions (Starlette runs them on its worker threads); nothing here holds state but the database.
"""

from __future__ import annotations

import csv
import io
from importlib.resources import files
from urllib.parse import quote, unquote

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from etiquette import __version__
from etiquette.db import schema
from etiquette.db.decisions import EXPORT_COLUMNS, Decision, DecisionRefused, decide, export
from etiquette.review.library import Library, call_page
from etiquette.review.listing import NONE, PAGE_SIZES, REVIEW_STATES, Filters, list_calls
from etiquette.review.media import NotPlayable, Recordings
from etiquette.review.security import Guard, same
from etiquette.types import Severity, Verdict
from etiquette.writers.html import call_view, css
from etiquette.writers.html.view import Player, anchor_of, clock

REVIEWER_COOKIE = "etiquette_reviewer"

TEMPLATES = Environment(
    loader=ChoiceLoader([PackageLoader("etiquette.review", "templates"), PackageLoader("etiquette.writers.html", "templates")]),
    autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
)
TEMPLATES.globals.update(version=__version__, clock=clock, quote=lambda text: quote(text, safe=""),
                         review_states=REVIEW_STATES, decisions_kinds=list(Decision))


class Review:
    """The app's parts: the database, the recordings, the CSRF token."""

    def __init__(self, library: Library, recordings: Recordings, csrf: str):
        self.library = library
        self.recordings = recordings
        self.csrf = csrf

    def page(self, name: str, status: int = 200, **values) -> HTMLResponse:
        values.setdefault("title", "etiquette review")
        return HTMLResponse(TEMPLATES.get_template(name).render(database=self.library.shown, **values), status)

    def problem(self) -> HTMLResponse | None:
        """The page that says why the database cannot be reviewed now, if it cannot."""
        reason = self.library.check()
        return None if reason is None else self.page("problem.html.j2", 503, reason=reason)

    # -- pages

    def calls(self, request: Request) -> Response:
        if (problem := self.problem()) is not None:
            return problem
        filters = Filters.parse(request.query_params)
        with self.library.reading() as connection:
            listing = list_calls(connection, filters)
        return self.page("calls.html.j2", listing=listing, f=listing.filters, sizes=PAGE_SIZES, none=NONE,
                         verdicts=[v.value for v in Verdict], severities=[s.value for s in Severity])

    def call(self, request: Request) -> Response:
        if (problem := self.problem()) is not None:
            return problem
        call_id = request.path_params["call_id"]
        with self.library.reading() as connection:
            shown = call_page(connection, call_id)
        if shown is None:
            return self.page("problem.html.j2", 404, reason="The results database has no call with this id.")
        try:
            playable = self.recordings.playable(shown.call.recording)
            notes = ["A mono recording."] if playable.channels == 1 else []
            if shown.call.redacted:  # the words are masked on the page; what the player says is not
                notes.append("The recording itself is not masked.")
            player = Player(f"/audio/{quote(call_id, safe='')}", " ".join(notes))
        except NotPlayable as reason:
            player = Player(None, str(reason))
        view = call_view(shown.report, anchor_of(call_id))
        view.update(verdict=shown.call.verdict, player=player, back=("/", "the calls"), interactive=True)
        return self.page("review_call.html.j2", title=f"{call_id}: etiquette review", shown=shown, **view,
                         csrf=self.csrf, reviewer=unquote(request.cookies.get(REVIEWER_COOKIE, "")))

    async def decide(self, request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=10, max_part_size=64 * 1024)
        if not same(form.get("csrf"), self.csrf):  # type: ignore[arg-type]
            return PlainTextResponse("This form is not from this review (its CSRF token is missing or wrong).", 403)
        if (problem := self.problem()) is not None:
            return problem
        values = {name: str(form.get(name) or "") for name in ("finding_id", "decision", "reviewer", "note")}

        def store():
            with self.library.writing() as connection:
                return decide(connection, values["finding_id"], values["decision"], values["reviewer"], values["note"])

        try:
            record = await run_in_threadpool(store)
        except DecisionRefused as reason:
            return self.page("problem.html.j2", 400, reason=f"The decision was not saved: {reason}.")
        response = RedirectResponse(f"/calls/{quote(record.call_id, safe='')}#d-{record.finding_id}", 303)
        response.set_cookie(REVIEWER_COOKIE, quote(record.reviewer), samesite="strict", max_age=400 * 86400)
        return response

    def audio(self, request: Request) -> Response:
        if self.library.check() is not None:
            return PlainTextResponse("The results database cannot be read.", 503)
        with self.library.reading() as connection:
            listed = connection.execute(select(schema.calls.c.recording)
                                        .where(schema.calls.c.call_id == request.path_params["call_id"])).scalar()
        try:
            playable = self.recordings.playable(listed, convert=True)
        except NotPlayable:
            return PlainTextResponse("Not found.", 404)
        return FileResponse(playable.file, media_type=_MEDIA.get(playable.codec, "application/octet-stream"))

    def export(self, request: Request) -> Response:
        if (problem := self.problem()) is not None:
            return problem
        from etiquette.writers.summary_csv import safe_cell

        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
        with self.library.reading() as connection:
            for row in export(connection):
                writer.writerow([safe_cell(row[column]) for column in EXPORT_COLUMNS])
        return Response(text.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": 'attachment; filename="decisions.csv"'})

    def precision(self, request: Request) -> Response:
        if (problem := self.problem()) is not None:
            return problem
        from etiquette.db.stats import Query, stats
        from etiquette.registry import REGISTRY

        with self.library.reading() as connection:
            tables = [stats(connection, Query(by, decisions=True), list(REGISTRY.names())) for by in ("check", "rule")]
        return self.page("precision.html.j2", title="Field precision: etiquette review", tables=tables,
                         check_title=REGISTRY.title)

    def stylesheet(self, request: Request) -> Response:
        return Response(css(), media_type="text/css; charset=utf-8")


_MEDIA = {"pcm_s16le": "audio/wav", "pcm_s24le": "audio/wav", "pcm_f32le": "audio/wav", "pcm_u8": "audio/wav",
          "flac": "audio/flac", "vorbis": "audio/ogg", "opus": "audio/ogg", "mp3": "audio/mpeg", "aac": "audio/mp4"}


def create_app(library: Library, recordings: Recordings, csrf: str, token: str | None, local: bool) -> Guard:
    """The app: its routes behind the Guard (host check, access token, security headers)."""
    review = Review(library, recordings, csrf)
    routes = [
        Route("/", review.calls),
        Route("/calls/{call_id:path}", review.call),
        Route("/decide", review.decide, methods=["POST"]),
        Route("/audio/{call_id:path}", review.audio, methods=["GET", "HEAD"]),
        Route("/decisions.csv", review.export),
        Route("/precision", review.precision),
        Route("/report.css", review.stylesheet),
        Mount("/static", StaticFiles(directory=str(files("etiquette.review").joinpath("static"))), name="static"),
    ]
    return Guard(Starlette(routes=routes), token, local)
