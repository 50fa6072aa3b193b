"""The training pages: one section of worked examples a page, answers checked, a score kept.

The score lives in a signed cookie in the trainee's browser (right and
total per section); the server stores nothing about a trainee.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..training import CHOICES, score

COOKIE = "govpost_training"


class TrainingPages:
    def __init__(self, web: Any):
        self.web = web

    def _policy(self, request: Request) -> Any:
        return self.web.catalogue.get(request.query_params.get("policy"))

    def _scores(self, request: Request, policy_id: str) -> dict[str, list[int]]:
        raw = request.cookies.get(COOKIE, "")
        body, _, mac = raw.rpartition(".")
        if not body or not hmac.compare_digest(mac, self._sign(body)):
            return {}
        try:
            data = json.loads(bytes.fromhex(body).decode())
        except (ValueError, UnicodeDecodeError):
            return {}
        scores = data.get(policy_id) if isinstance(data, dict) else None
        if not isinstance(scores, dict):
            return {}
        return {k: v for k, v in scores.items() if isinstance(v, list) and len(v) == 2}

    def _sign(self, body: str) -> str:
        return hmac.new(self.web.csrf_key().encode(), b"training:" + body.encode(), hashlib.sha256).hexdigest()

    def _store(self, response: Response, request: Request, policy_id: str, scores: dict[str, list[int]]) -> None:
        body = json.dumps({policy_id: scores}, sort_keys=True).encode().hex()
        response.set_cookie(COOKIE, f"{body}.{self._sign(body)}", max_age=30 * 86400, httponly=True,
                            samesite="strict", secure=self.web.settings.secure_cookies or request.url.scheme == "https")

    def _totals(self, training: dict[str, Any], scores: dict[str, list[int]]) -> dict[str, int]:
        known = {s["number"] for s in training["sections"]}
        done = {k: v for k, v in scores.items() if k in known}
        return {"right": sum(v[0] for v in done.values()), "total": sum(v[1] for v in done.values()),
                "sections": len(done), "all": len(training["sections"])}

    async def index(self, request: Request) -> Response:
        policy = self._policy(request)
        training = policy.training()
        scores = self._scores(request, policy.id)
        return self.web.page(request, "training.html", policy=policy, training=training, scores=scores,
                             totals=self._totals(training, scores))

    async def section(self, request: Request) -> Response:
        policy = self._policy(request)
        training = policy.training()
        number = request.path_params["section"]
        parts = training["sections"]
        found = next((i for i, s in enumerate(parts) if s["number"] == number), None)
        if found is None:
            return self.web.error(request, 404, "I501", f"the training has no section `{number}`")
        part = parts[found]
        following = parts[found + 1]["number"] if found + 1 < len(parts) else None
        scores = self._scores(request, policy.id)
        if request.method == "GET":
            return self.web.page(request, "training_section.html", policy=policy, part=part, marked=None,
                                 following=following, choices=CHOICES, totals=self._totals(training, scores))
        form = await request.form()
        if not self.web.csrf_ok(request, form):
            return self.web.error(request, 403, "W702", "the form has expired or did not come from this page; "
                                                        "reload it")
        answers = {str(q["number"]): str(form.get(f"q{q['number']}", "")) for q in part["questions"]}
        marked = score(part, answers)
        scores[number] = [marked["right"], marked["total"]]
        response = self.web.page(request, "training_section.html", policy=policy, part=part, marked=marked,
                                 following=following, choices=CHOICES, totals=self._totals(training, scores))
        self._store(response, request, policy.id, scores)
        return response

    async def final(self, request: Request) -> Response:
        policy = self._policy(request)
        training = policy.training()
        scores = self._scores(request, policy.id)
        return self.web.page(request, "training_score.html", policy=policy, training=training, scores=scores,
                             totals=self._totals(training, scores))
