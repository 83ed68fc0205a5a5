"""A loopback HTTP server standing in for CloudFormation's pre-signed ResponseURL (as the window-tagging tests
capture it): it records every PUT body, so a fuzz case can check that it was answered exactly once."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ResponseRecorder:
    """Records the JSON bodies PUT to :attr:`url`; ``close()`` stops the server."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.sizes: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                outer.sizes.append(len(raw))
                outer.bodies.append(json.loads(raw))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/cfn-response?X-Amz-Signature=fuzz"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
