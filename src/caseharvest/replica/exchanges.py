"""What the replica answered: one :class:`Exchange` per request, optionally as JSONL."""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Exchange:
    """One request answered, and exactly what went back on the wire."""

    time: str
    method: str
    target: str
    url: str
    host: str
    on_site: bool
    request_headers: list[tuple[str, str]]
    request_body: bytes
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    response_body: bytes

    def response_header(self, name: str) -> str | None:
        """First value of a response header, matched case-insensitively."""
        values = self.response_header_values(name)
        return values[0] if values else None

    def response_header_values(self, name: str) -> list[str]:
        """Every value of a response header, in the order sent."""
        wanted = name.lower()
        return [value for key, value in self.response_headers if key.lower() == wanted]

    def to_json(self) -> str:
        """One JSON line; bodies are base64 so any bytes survive."""
        data: dict[str, Any] = {
            "time": self.time,
            "method": self.method,
            "target": self.target,
            "url": self.url,
            "host": self.host,
            "on_site": self.on_site,
            "request_headers": [list(pair) for pair in self.request_headers],
            "request_body": base64.b64encode(self.request_body).decode("ascii"),
            "status": self.status,
            "reason": self.reason,
            "response_headers": [list(pair) for pair in self.response_headers],
            "response_body": base64.b64encode(self.response_body).decode("ascii"),
        }
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> Exchange:
        """Inverse of :meth:`to_json`."""
        data = json.loads(line)
        return cls(
            time=data["time"],
            method=data["method"],
            target=data["target"],
            url=data["url"],
            host=data["host"],
            on_site=data["on_site"],
            request_headers=[(key, value) for key, value in data["request_headers"]],
            request_body=base64.b64decode(data["request_body"]),
            status=data["status"],
            reason=data["reason"],
            response_headers=[(key, value) for key, value in data["response_headers"]],
            response_body=base64.b64decode(data["response_body"]),
        )


def load_exchanges(path: Path | str) -> list[Exchange]:
    """Read back a log written by a server started with ``log_path``."""
    with Path(path).open(encoding="utf-8") as lines:
        return [Exchange.from_json(line) for line in lines if line.strip()]


class ExchangeLog:
    """Thread-safe in-memory list of exchanges, mirrored to a JSONL file when given one."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._exchanges: list[Exchange] = []

    def append(self, exchange: Exchange) -> None:
        """Record one exchange (and append + flush it to the file)."""
        with self._lock:
            self._exchanges.append(exchange)
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as out:
                    out.write(exchange.to_json() + "\n")

    def all(self) -> list[Exchange]:
        """A copy of everything recorded so far, in order."""
        with self._lock:
            return list(self._exchanges)

    def clear(self) -> None:
        """Forget the in-memory record; the file, an append-only log, is left as it is."""
        with self._lock:
            self._exchanges.clear()
