"""The policies a server checks drafts against: loaded once, at start.

A served policy is a ``.policy`` file (checked and compiled, with the
circular's view-model for clause prose, translations and channels) or a
compiled ``.rules.json`` (titles and citations only: a rule set carries no
prose). Either way drafts are checked by the same
:class:`toolkit.evaluate.Checker` that ``govpost check`` uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__, api
from ..diagnostics import Diagnostic, summary_line
from ..training import clause_summaries, plain_text, training_view


class PolicyError(Exception):
    """A policy that cannot be served: it has errors, or the file cannot be read."""

    def __init__(self, message: str, diagnostics: list[Diagnostic] | None = None):
        super().__init__(message)
        self.diagnostics = diagnostics or []


@dataclass
class ServedPolicy:
    """One policy, ready to check drafts: its rule set, checker, clauses and channels."""

    id: str
    path: str
    ruleset: dict[str, Any]
    checker: Any
    languages: list[str]
    title: dict[str, Any]  # a *Text*
    clauses: dict[str, dict[str, Any]]
    channels: dict[str, dict[str, Any]]  # topic → *Text*
    authorities: dict[str, dict[str, Any]]  # authority title (main language) → *Text*
    has_prose: bool
    view: dict[str, Any] | None = None
    _training: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def content_hash(self) -> str:
        return str(self.ruleset["content_hash"])

    @property
    def default_outcome(self) -> str:
        return str(self.ruleset["policy"]["default_outcome"])

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.ruleset["labels"])

    @property
    def timezone(self) -> str:
        return str(self.ruleset["policy"].get("timezone") or "UTC")

    def training(self) -> dict[str, Any]:
        """The training data (:func:`toolkit.training.training_view`), made on first use."""
        if self._training is None:
            self._training = training_view(self.ruleset, self.checker, self.view)
        return self._training


def load_policy(path: str | Path) -> ServedPolicy:
    """Load a ``.policy`` file or a compiled ``.rules.json`` for serving.

    Raises:
        PolicyError: the file cannot be read, or the policy has errors.
    """
    path = Path(path)
    if path.suffix == ".json":
        from ..rules import RuleSetError

        try:
            ruleset = api.load_rules(path)
        except OSError as exc:
            raise PolicyError(f"error[I501]: cannot read `{path}`: {exc.strerror or exc}") from None
        except RuleSetError as exc:
            raise PolicyError(f"`{path}`: error[{exc.code}]: {exc}") from None
        lang = (ruleset["policy"].get("languages") or ["en"])[0]
        return ServedPolicy(
            id=ruleset["policy"]["id"], path=str(path), ruleset=ruleset, checker=api.checker(ruleset),
            languages=[lang], title=plain_text(ruleset["policy"]["title"], lang),
            clauses=clause_summaries(ruleset, None), channels={}, authorities={}, has_prose=False)
    from ..document import circular_view

    result = api.check_file(path)
    if not result.ok or result.policy is None:
        raise PolicyError(f"`{path}`: {summary_line(result.diagnostics)}; fix them first", result.diagnostics)
    policy = result.policy
    ruleset = api.compile_result(result)
    view = circular_view(policy, content_hash=result.content_hash, ruleset=ruleset,
                         generator=f"govpost {__version__}")
    languages = [v["code"] for v in view["document"]["languages"]]
    channels = {c.topic: _text(c.text, languages) for c in policy.meta.channels}
    authorities = {a.title.value: _text(a.title, languages) for a in policy.authorities}
    return ServedPolicy(
        id=policy.id, path=str(path), ruleset=ruleset, checker=api.checker(ruleset), languages=languages,
        title=view["document"]["title"], clauses=clause_summaries(ruleset, view), channels=channels,
        authorities=authorities, has_prose=True, view=view)


def _text(text: Any, languages: list[str]) -> dict[str, Any]:
    """A policy's text in the *Text* shape of :mod:`toolkit.document`, one version per language it has."""
    versions = []
    for i, lang in enumerate(languages):
        value = text.value if i == 0 else text.get(lang)
        if value is not None:
            runs = [{"text": value, "term": None, "tail": ""}]
            versions.append({"lang": lang, "primary": i == 0, "text": value, "runs": runs})
    return {"text": text.value, "versions": versions,
            "missing": [lang for lang in languages if lang not in {v["lang"] for v in versions}]}


class Catalogue:
    """The served policies by id, in the order given; the first is the default."""

    def __init__(self, policies: list[ServedPolicy]):
        if not policies:
            raise PolicyError("no policy to serve: give a .policy or .rules.json file")
        self.by_id: dict[str, ServedPolicy] = {}
        for p in policies:
            if p.id in self.by_id:
                raise PolicyError(f"two policies have the id `{p.id}`: `{self.by_id[p.id].path}` and `{p.path}`")
            self.by_id[p.id] = p
        self.default = policies[0]

    @classmethod
    def load(cls, paths: list[str | Path]) -> Catalogue:
        return cls([load_policy(p) for p in paths])

    def get(self, policy_id: str | None) -> ServedPolicy:
        """The policy with this id, or the default for an id that is not served."""
        return self.by_id.get(policy_id or "", self.default)

    def by_hash(self, content_hash: str) -> ServedPolicy | None:
        return next((p for p in self.by_id.values() if p.content_hash == content_hash), None)

    def __iter__(self) -> Any:
        return iter(self.by_id.values())

    def __len__(self) -> int:
        return len(self.by_id)
