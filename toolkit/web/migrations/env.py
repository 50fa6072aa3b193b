"""Alembic's environment for the review database: run on the connection govpost hands it.

``toolkit.web.store.migrate`` calls ``alembic upgrade head`` with the
connection in ``config.attributes``; there is no alembic.ini and no URL here.
"""

from __future__ import annotations

from alembic import context

from toolkit.web.store import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
