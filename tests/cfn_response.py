"""A loopback HTTP server standing in for CloudFormation's pre-signed ResponseURL: it records every PUT
(body, size, headers), so the window-tagging tests and its fuzz target check what a custom resource answered,
and that it answered exactly once. Its URLs are CloudFormation's https response URLs, routed to the server by
the emulator (``devkit.cfn_response``): the function under test sees the real shape."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from devkit import cfn_response


class ResponseRecorder:
    """Records the JSON bodies (and their sizes and headers) PUT to :attr:`url`; ``close()`` stops the server."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.sizes: list[int] = []
        self.headers: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                outer.sizes.append(len(raw))
                outer.bodies.append(json.loads(raw))
                outer.headers.append(dict(self.headers))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.token = cfn_response.route(self.server.server_address[1])

    @property
    def url(self) -> str:
        """The response URL of us-east-1 (the Region of most tests)."""
        return self.url_for("us-east-1")

    def url_for(self, region: str) -> str:
        return cfn_response.response_url(self.token, region)

    @property
    def loopback_url(self) -> str:
        """The server's own address: a function must never send there (it is not CloudFormation's host)."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/cfn-response"

    def close(self) -> None:
        cfn_response.unroute(self.token)
        self.server.shutdown()
        self.server.server_close()
