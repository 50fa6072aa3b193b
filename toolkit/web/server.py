"""Running the application: uvicorn on a socket that `govpost serve` has already bound."""

from __future__ import annotations

import socket
from typing import Any


def run(app: Any, sock: socket.socket) -> None:
    """Serve until interrupted. No access log: a request line never holds a draft (drafts are POSTed),
    but a server that says it keeps nothing should not write down who checked what either."""
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", access_log=False, server_header=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
