"""The ASGI application of `govpost serve` (Starlette), its pages and its guards.

Pages: ``/check`` (no login, nothing stored), ``/training``, ``/login`` and
the review queue under ``/review`` (signed in). Every response carries a
Content-Security-Policy that allows nothing but this server's own scripts,
styles and fonts; every form carries a CSRF token; request bodies have a size
limit; the check, the saving of a case and signing in are rate limited per
client address. Templates are autoescaped and strict, and no draft is ever
marked safe: what an officer types is shown as text.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import jinja2
import jinja2.sandbox
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import __version__
from ..postschema import ACCOUNT_KINDS, PLATFORMS, SOURCE_KINDS
from ..resources import templates_dir
from ..rules import OUTCOMES
from . import auth, review
from .catalogue import Catalogue
from .drafts import ACTIONS, MAX_DRAFT_CHARS, Draft, DraftError, check_draft
from .i18n import LANGUAGE_NAMES, LANGUAGES, gettext, pick
from .store import DECISIONS, Store, User
from .training_pages import TrainingPages

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
BROWSER_COOKIE = "govpost_browser"
SESSION_COOKIE = "govpost_session"
LANG_COOKIE = "govpost_lang"


@dataclass
class Settings:
    """What `govpost serve` is told: limits and the database."""

    db_url: str | None = None
    max_body: int = 64 * 1024  # a form with a draft
    max_upload: int = 20 * 1024 * 1024  # a results file and its posts
    check_rate: int = 240  # checks a client address may make in a minute (0: no limit)
    login_rate: int = 10  # sign-in attempts a client address may make in a minute
    secure_cookies: bool = False  # set Secure on cookies even over plain HTTP (behind a TLS proxy)


# ---------------------------------------------------------------------------
# Guards: body size, rate limits, security headers
# ---------------------------------------------------------------------------


class TooLarge(Exception):
    pass


class Guard:
    """ASGI middleware: a size limit on request bodies, and the security headers on every response."""

    def __init__(self, app: Any, settings: Settings, upload_paths: tuple[str, ...] = ("/review/import",)):
        self.app = app
        self.settings = settings
        self.upload_paths = upload_paths

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.settings.max_upload if scope["path"] in self.upload_paths else self.settings.max_body
        declared = dict(scope["headers"]).get(b"content-length")
        started = False

        async def send_with_headers(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers.extend(SECURITY_HEADERS)
                message = {**message, "headers": headers}
            await send(message)

        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send_with_headers, limit)
            return
        received = 0

        async def counted() -> dict[str, Any]:
            nonlocal received
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise TooLarge
            return message

        try:
            await self.app(scope, counted, send_with_headers)
        except TooLarge:
            if not started:
                await _too_large(send_with_headers, limit)


async def _too_large(send: Callable[..., Any], limit: int) -> None:
    body = f"error[I503]: the request is larger than {limit:,} bytes\n".encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class RateLimiter:
    """At most ``per_minute`` requests a client in any minute (a token bucket refilled continuously)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self.clock = clock
        self.buckets: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def allow(self, client: str) -> float:
        """0 when the request may go ahead, else the seconds to wait."""
        if self.per_minute <= 0:
            return 0.0
        rate = self.per_minute / 60.0
        now = self.clock()
        with self.lock:
            tokens, then = self.buckets.get(client, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - then) * rate)
            if tokens < 1.0:
                self.buckets[client] = (tokens, now)
                return (1.0 - tokens) / rate
            self.buckets[client] = (tokens - 1.0, now)
            if len(self.buckets) > 100_000:  # forget the idle ones
                self.buckets = {k: v for k, v in self.buckets.items() if now - v[1] < 60}
            return 0.0


# ---------------------------------------------------------------------------
# The application
# ---------------------------------------------------------------------------


@dataclass
class Web:
    """Everything the pages share: the policies, the database, the templates, the limits."""

    catalogue: Catalogue
    settings: Settings
    store: Store | None = None
    key: str = ""
    env: jinja2.Environment = field(init=False)
    check_limit: RateLimiter = field(init=False)
    login_limit: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        # Every template runs in Jinja2's sandbox, as the circulars' do (docs/security.md).
        self.env = jinja2.sandbox.ImmutableSandboxedEnvironment(
            loader=jinja2.FileSystemLoader(str(templates_dir() / "web")),
            autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(pick=pick, outcomes=OUTCOMES, version=__version__, language_names=LANGUAGE_NAMES)
        self.check_limit = RateLimiter(self.settings.check_rate)
        self.login_limit = RateLimiter(self.settings.login_rate)
        self.training = TrainingPages(self)

    def db(self) -> Store:
        if self.store is None:
            self.store = Store(self.settings.db_url)
        return self.store

    def server_key(self) -> str:
        if not self.key:
            self.key = self.db().setting("signing_key", lambda: secrets.token_hex(32))
        return self.key

    # -- per request ------------------------------------------------------

    def lang(self, request: Request) -> str:
        chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "en"
        return chosen if chosen in LANGUAGES else "en"

    def browser(self, request: Request) -> str:
        value = request.cookies.get(BROWSER_COOKIE, "")
        return value if 20 <= len(value) <= 64 and value.isascii() else ""

    def user(self, request: Request) -> User | None:
        token = request.cookies.get(SESSION_COOKIE)
        return auth.session_user(self.db(), token) if token else None

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        lang = context.pop("lang", None) or self.lang(request)
        browser = self.browser(request) or secrets.token_urlsafe(24)
        values = {
            "lang": lang, "languages": LANGUAGES,
            "t": lambda key, **kw: gettext(lang, key, **kw),
            "csrf": auth.csrf_token(self.csrf_key(), browser),
            "path": request.url.path, "user": context.pop("user", None), "catalogue": self.catalogue,
            "other_lang": "hi" if lang == "en" else "en",
        }
        values.update(context)
        html = self.env.get_template(name).render(**values)
        response = HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})
        secure = self.settings.secure_cookies or request.url.scheme == "https"
        if not self.browser(request):
            response.set_cookie(BROWSER_COOKIE, browser, httponly=True, samesite="strict", secure=secure)
        if request.query_params.get("lang") in LANGUAGES and request.cookies.get(LANG_COOKIE) != lang:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="lax", secure=secure)
        return response

    def csrf_key(self) -> str:
        # The check page works without the database: its forms are signed with a key of this process
        # unless the database (and its shared key) is in use.
        if self.store is None and not self.key:
            self.key = _process_key()
        return self.key if self.store is None else self.server_key()

    def csrf_ok(self, request: Request, form: Any) -> bool:
        origin = request.headers.get("origin")
        if origin and origin != "null" and origin.split("://", 1)[-1] != request.headers.get("host"):
            return False
        return auth.csrf_ok(self.csrf_key(), self.browser(request), form.get("csrf"))

    def error(self, request: Request, status: int, code: str, message: str, **context: Any) -> HTMLResponse:
        """An error page, or only its message for the check page's script (which shows it in place)."""
        name = "_problem.html" if request.headers.get("x-govpost-fragment") == "1" else "error.html"
        return self.page(request, name, status=status, code=code, message=message, **context)


_KEY: list[str] = []


def _process_key() -> str:
    if not _KEY:
        _KEY.append(secrets.token_hex(32))
    return _KEY[0]


def create_app(catalogue: Catalogue, settings: Settings | None = None, store: Store | None = None) -> Starlette:
    """The application serving these policies. The database is opened on first use of the review queue,
    unless ``store`` is given."""
    settings = settings or Settings()
    web = Web(catalogue, settings, store)
    if store is not None:
        web.key = web.server_key()
    routes = [
        Route("/", partial(home, web)),
        Route("/check", partial(check_page, web), methods=["GET", "POST"]),
        Route("/check/save", partial(save_case, web), methods=["POST"]),
        Route("/training", web.training.index),
        Route("/training/score", web.training.final),
        Route("/training/{section}", web.training.section, methods=["GET", "POST"]),
        Route("/login", partial(login, web), methods=["GET", "POST"]),
        Route("/logout", partial(logout, web), methods=["POST"]),
        Route("/review", partial(queue, web)),
        Route("/review/import", partial(import_page, web), methods=["GET", "POST"]),
        Route("/review/export.{fmt}", partial(export, web)),
        Route("/review/case/{case_id:int}", partial(case_page, web), methods=["GET", "POST"]),
        Route("/healthz", partial(health, web)),
        Mount("/static", StaticFiles(directory=str(templates_dir() / "web" / "static")), name="static"),
        Mount("/fonts", FontFiles(directory=str(templates_dir() / "fonts")), name="fonts"),
    ]
    app = Starlette(routes=routes, exception_handlers={404: partial(not_found, web), 405: partial(not_allowed, web)})
    app.state.web = web
    return Guard(app, settings)  # type: ignore[return-value]


class FontFiles(StaticFiles):
    """The bundled fonts (and only them), cached for a day."""

    async def get_response(self, path: str, scope: Any) -> Response:
        if not path.endswith((".ttf", ".txt")):
            return PlainTextResponse("not found\n", status_code=404)
        response = await super().get_response(path, scope)
        response.headers["cache-control"] = "public, max-age=86400"
        return response


async def home(web: Web, request: Request) -> Response:
    return RedirectResponse("/check", status_code=302)


async def health(web: Web, request: Request) -> Response:
    return PlainTextResponse("ok\n")


async def not_found(web: Web, request: Request, exc: Exception) -> Response:
    return web.error(request, 404, "I501", f"there is no page `{request.url.path}`")


async def not_allowed(web: Web, request: Request, exc: Exception) -> Response:
    return web.error(request, 405, "I501", f"`{request.method}` is not how `{request.url.path}` is used")


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _limited(web: Web, request: Request, limiter: RateLimiter) -> Response | None:
    wait = limiter.allow(_client(request))
    if wait <= 0:
        return None
    response = web.error(request, 429, "W701", "too many requests from this address; wait a moment and try again")
    response.headers["retry-after"] = str(max(1, int(wait + 0.999)))
    return response


# ---------------------------------------------------------------------------
# The check page
# ---------------------------------------------------------------------------


def _check_context(web: Web, request: Request, policy: Any, draft: Draft, lang: str) -> dict[str, Any]:
    return {
        "policy": policy, "draft": draft, "platforms": PLATFORMS, "accounts": ACCOUNT_KINDS, "actions": ACTIONS,
        "shared_kinds": SOURCE_KINDS, "max_chars": MAX_DRAFT_CHARS, "lang": lang,
    }


async def check_page(web: Web, request: Request) -> Response:
    lang = web.lang(request)
    fragment = request.headers.get("x-govpost-fragment") == "1"
    if request.method == "GET":
        policy = web.catalogue.get(request.query_params.get("policy"))
        return web.page(request, "check.html", **_check_context(web, request, policy, Draft(), lang), result=None,
                        problem=None, saved=None)
    limited = _limited(web, request, web.check_limit)
    if limited is not None:
        return limited
    form = await request.form()
    if not web.csrf_ok(request, form):
        return web.error(request, 403, "W702", "the form has expired or did not come from this page; reload it")
    lang = form.get("lang") if form.get("lang") in LANGUAGES else lang  # type: ignore[assignment]
    policy = web.catalogue.get(form.get("policy"))  # type: ignore[arg-type]
    problem = None
    result = None
    draft = Draft()
    try:
        draft = Draft.from_form(form)
        if draft.text.strip() or draft.shared_text.strip():
            result = check_draft(policy, draft)
    except DraftError as exc:
        problem = str(exc)
    context = _check_context(web, request, policy, draft, lang)
    status = 400 if problem else 200
    if fragment:
        return web.page(request, "_result.html", status=status, **context, result=result, problem=problem)
    return web.page(request, "check.html", status=status, **context, result=result, problem=problem, saved=None)


async def save_case(web: Web, request: Request) -> Response:
    limited = _limited(web, request, web.check_limit)
    if limited is not None:
        return limited
    form = await request.form()
    if not web.csrf_ok(request, form):
        return web.error(request, 403, "W702", "the form has expired or did not come from this page; reload it")
    lang = form.get("lang") if form.get("lang") in LANGUAGES else web.lang(request)
    policy = web.catalogue.get(form.get("policy"))  # type: ignore[arg-type]
    try:
        draft = Draft.from_form(form)
        result = check_draft(policy, draft)
    except DraftError as exc:
        return web.error(request, 400, "W705", str(exc))
    case_id = await run_in_threadpool(review.save_draft, web.db(), policy.ruleset, result.post, result.verdict)
    return web.page(request, "check.html", **_check_context(web, request, policy, draft, str(lang)), result=result,
                    problem=None, saved=case_id)


# ---------------------------------------------------------------------------
# Signing in
# ---------------------------------------------------------------------------


def _set_session(web: Web, request: Request, response: Response, token: str) -> None:
    secure = web.settings.secure_cookies or request.url.scheme == "https"
    response.set_cookie(SESSION_COOKIE, token, max_age=auth.SESSION_HOURS * 3600, httponly=True, samesite="strict",
                        secure=secure)


async def login(web: Web, request: Request) -> Response:
    if request.method == "GET":
        return web.page(request, "login.html", failed=False, next=_safe_next(request.query_params.get("next")))
    limited = _limited(web, request, web.login_limit)
    if limited is not None:
        return limited
    form = await request.form()
    if not web.csrf_ok(request, form):
        return web.error(request, 403, "W702", "the form has expired or did not come from this page; reload it")
    username = str(form.get("username", ""))[:64]
    password = str(form.get("password", ""))[:1024]
    user = await run_in_threadpool(auth.authenticate, web.db(), username, password)
    if user is None:
        return web.page(request, "login.html", status=401, failed=True, next=_safe_next(str(form.get("next", ""))))
    token = await run_in_threadpool(auth.start_session, web.db(), user)
    response = RedirectResponse(_safe_next(str(form.get("next", ""))) or "/review", status_code=303)
    _set_session(web, request, response, token)
    return response


def _safe_next(value: str | None) -> str:
    """Only a path on this server (never `//host` or a scheme), for the redirect after signing in."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value[:500]
    return ""


async def logout(web: Web, request: Request) -> Response:
    form = await request.form()
    if not web.csrf_ok(request, form):
        return web.error(request, 403, "W702", "the form has expired or did not come from this page; reload it")
    await run_in_threadpool(auth.end_session, web.db(), request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/check", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


async def _signed_in(web: Web, request: Request) -> User | Response:
    user = await run_in_threadpool(web.user, request)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    return user


# ---------------------------------------------------------------------------
# The review queue
# ---------------------------------------------------------------------------


async def queue(web: Web, request: Request) -> Response:
    user = await _signed_in(web, request)
    if isinstance(user, Response):
        return user
    filters = review.Filters.from_query(request.query_params)
    cases, total = await run_in_threadpool(review.list_cases, web.db(), filters)
    facets = await run_in_threadpool(review.facets, web.db())
    return web.page(request, "queue.html", user=user, cases=cases, total=total, filters=filters, facets=facets,
                    page_size=review.PAGE)


def _case_view(web: Web, case: Any, lang: str) -> dict[str, Any]:
    """A case as the page shows it: its text with the evidence highlighted, its clauses in words."""
    from .drafts import TYPED_FIELDS, _is_span, _spans, _value, highlight

    ruleset = case.rule_set.body
    served = web.catalogue.by_hash(case.rule_set_hash)
    from ..training import clause_summaries

    clauses = served.clauses if served is not None else clause_summaries(ruleset, None)
    findings = [{**f, "summary": clauses.get(f.get("clause"))} for f in case.result.get("findings", [])]
    marks = {}
    snippets = []
    if case.post is not None:
        for name in TYPED_FIELDS:
            value = _value(case.post, name)
            if value:
                marks[name] = highlight(value, _spans(case.result.get("findings", []), name))
    else:
        snippets = [ev for f in case.result.get("findings", []) for ev in f.get("evidence", []) if _is_span(ev)]
    return {"findings": findings, "marks": marks, "snippets": snippets, "labels": ruleset["labels"],
            "policy_title": ruleset["policy"]["title"], "post_lines": _post_lines(case.post),
            "authority": _authority(findings, case.outcome)}


def _authority(findings: list[dict[str, Any]], outcome: str) -> str | None:
    for f in findings:
        if f.get("outcome") == outcome and f.get("authority"):
            return str(f["authority"].get("title"))
    return None


def _post_lines(post: dict[str, Any] | None) -> list[dict[str, Any]]:
    if post is None:
        return []
    from ..document import post_view

    return [line for line in post_view({k: v for k, v in post.items() if k != "id"})
            if line["field"] not in ("Text", "Shared text")]


async def case_page(web: Web, request: Request) -> Response:
    user = await _signed_in(web, request)
    if isinstance(user, Response):
        return user
    case_id = request.path_params["case_id"]
    case = await run_in_threadpool(review.get_case, web.db(), case_id)
    if case is None:
        return web.error(request, 404, "W705", f"there is no case {case_id}", user=user)
    lang = web.lang(request)
    context: dict[str, Any] = {"user": user, "case": case, "view": _case_view(web, case, lang),
                               "decisions": DECISIONS, "problem": None, "conflict": None, "recheck": None,
                               "chosen_labels": [],
                               "form": dict.fromkeys(("decision", "reason", "right_outcome", "notes", "version"), ""),
                               "done": request.query_params.get("done") == "1"}
    if request.method == "GET":
        return web.page(request, "case.html", **context)
    form = await request.form()
    if not web.csrf_ok(request, form):
        return web.error(request, 403, "W702", "the form has expired or did not come from this page; reload it",
                         user=user)
    labels = [str(v) for v in form.getlist("labels")][:50]
    values = {k: str(form.get(k, "")) for k in ("decision", "reason", "right_outcome", "notes", "version")}
    context.update(chosen_labels=labels, form=values)
    if form.get("action") == "recheck":
        unknown = [lb for lb in labels if lb not in case.rule_set.body["labels"]]
        if unknown:
            context["problem"] = ("W705", f"`{unknown[0]}` is not a label of this policy")
            return web.page(request, "case.html", status=400, **context)
        context["recheck"] = await run_in_threadpool(review.recheck, case, labels)
        return web.page(request, "case.html", **context)
    try:
        version = int(values["version"])
    except ValueError:
        version = -1
    try:
        await run_in_threadpool(lambda: review.decide(
            web.db(), case_id, version, user, values["decision"], reason=values["reason"],
            right_outcome=values["right_outcome"], labels=labels, notes=values["notes"]))
    except review.Conflict as exc:
        fresh = await run_in_threadpool(review.get_case, web.db(), case_id)
        context.update(case=fresh, conflict=exc.latest, view=_case_view(web, fresh, lang))
        return web.page(request, "case.html", status=409, **context)
    except review.ReviewError as exc:
        context["problem"] = (exc.code, str(exc))
        return web.page(request, "case.html", status=400, **context)
    return RedirectResponse(f"/review/case/{case_id}?done=1", status_code=303)


async def import_page(web: Web, request: Request) -> Response:
    user = await _signed_in(web, request)
    if isinstance(user, Response):
        return user
    if request.method == "GET":
        return web.page(request, "import.html", user=user, report=None, problem=None)
    async with request.form(max_files=2, max_fields=10, max_part_size=64 * 1024) as form:
        if not web.csrf_ok(request, form):
            return web.error(request, 403, "W702", "the form has expired or did not come from this page; reload it",
                             user=user)
        policy = web.catalogue.get(str(form.get("policy", "")))
        include_permitted = form.get("all") == "1"
        results = form.get("results")
        posts_file = form.get("posts")
        if results is None or not hasattr(results, "read"):
            return web.page(request, "import.html", status=400, user=user, report=None,
                            problem=("R309", "choose the results file of `govpost check` to import"))
        try:
            results_text = (await results.read()).decode("utf-8")
            index = review.PostIndex()
            if posts_file is not None and hasattr(posts_file, "read") and posts_file.filename:
                posts_text = (await posts_file.read()).decode("utf-8")
                for name in review.inputs_named(results_text) or [posts_file.filename]:
                    index.add_text(name, posts_text)
        except UnicodeDecodeError:
            return web.page(request, "import.html", status=400, user=user, report=None,
                            problem=("I502", "the file is not valid UTF-8"))
    report = await run_in_threadpool(lambda: review.import_results(
        web.db(), policy.ruleset, results_text, index, include_permitted=include_permitted))
    return web.page(request, "import.html", user=user, report=report, problem=None)


async def export(web: Web, request: Request) -> Response:
    user = await _signed_in(web, request)
    if isinstance(user, Response):
        return user
    fmt = request.path_params["fmt"]
    makers = {"csv": (review.export_csv, "text/csv; charset=utf-8"),
              "jsonl": (review.export_jsonl, "application/x-ndjson; charset=utf-8"),
              "policy": (review.export_examples, "text/plain; charset=utf-8")}
    if fmt not in makers:
        return web.error(request, 404, "I501", f"there is no export `{fmt}`: use csv, jsonl or policy", user=user)
    make, mime = makers[fmt]
    body = await run_in_threadpool(make, web.db())
    name = "candidate-examples.policy" if fmt == "policy" else f"decisions.{fmt}"
    return Response(body, media_type=mime, headers={"content-disposition": f'attachment; filename="{name}"',
                                                    "cache-control": "no-store"})
