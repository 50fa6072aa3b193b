"""govpost: social-media conduct rules for civil servants, as code.

Pipeline (each arrow is one module)::

    text ─syntax→ parse tree ─lower→ model ─check→ checked model
         ─compiler→ rule set (JSON) ─evaluate→ verdicts

==================  ==========================================================
module              responsibility
==================  ==========================================================
``source``          source texts, spans, carets
``diagnostics``     the diagnostic type, the code registry, renderers
``syntax``          grammar/policy.lark → Lark tree; syntax errors (imports lark)
``lower``           Lark tree → model (imports lark)
``metadata``        the ``policy { … }`` header → typed metadata
``load``            files and includes → one :class:`~toolkit.model.Policy`
``model``           the typed policy model
``check``           semantic checks (names, types, citations, regexes, examples)
``postschema``      the fields of a post; the post JSON Schema
``posts``           validating and reading posts
``compiler``        model → rule set
``rules``           the rule-set format
``text``            word normalisation shared by compiler and checker
``evaluate``        rule set × post → verdict (never imports lark)
``testing``         worked examples, clause coverage, JUnit XML
``api``             the stages composed
``cli``             the ``govpost`` command (the only module importing click)
==================  ==========================================================
"""

from __future__ import annotations

__version__ = "0.1.0"
