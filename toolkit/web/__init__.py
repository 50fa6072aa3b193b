"""`govpost serve`: the web application.

Three parts over one or several served policies (:mod:`.catalogue`):

- the pre-publication check (:mod:`.drafts`): a draft, checked as it is typed,
  with its evidence highlighted, the clauses in the circular's words, what
  to do instead, and the counterfactual the checker confirms; no login,
  nothing stored;
- the review queue (:mod:`.store`, :mod:`.review`, :mod:`.auth`): results of
  ``govpost check`` imported into a database (SQLite by default, PostgreSQL
  by URL), decided by reviewers who sign in, every decision an append-only
  audit record;
- training (:mod:`toolkit.training`): the policy's worked examples as questions.

:mod:`.app` is the ASGI application (Starlette) that serves them. This
package is the only place besides ``render*.py`` that imports Jinja2, and
the only one that imports the web framework and the database layer; the
checker side never imports it.
"""
