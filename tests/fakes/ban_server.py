"""The Base Adresse Nationale's search API on loopback: a real HTTP server answering `GET /search/?q=…&limit=…`
with GeoJSON features, as api-adresse.data.gouv.fr does. Addresses match when every word of the query
starts a word of their label (accents and case aside). `delay` holds each answer that many seconds (a slow
service), `status` sets the status of the next answers; `queries` records what was asked."""

from __future__ import annotations

import json
import threading
import time
import unicodedata
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pg import free_port

ADDRESSES = [
    {"label": "1 Rue de la Paix 62000 Arras", "postcode": "62000", "citycode": "62041", "city": "Arras",
     "id": "62041_0570_00001", "street": "Rue de la Paix"},
    {"label": "10 Rue de la Paix 62000 Arras", "postcode": "62000", "citycode": "62041", "city": "Arras",
     "id": "62041_0570_00010", "street": "Rue de la Paix"},
    {"label": "1 Place des Héros 62000 Arras", "postcode": "62000", "citycode": "62041", "city": "Arras",
     "id": "62041_0350_00001", "street": "Place des Héros"},
    {"label": "2 Rue de Paris 62300 Lens", "postcode": "62300", "citycode": "62498", "city": "Lens",
     "id": "62498_0420_00002", "street": "Rue de Paris"},
    {"label": "12 Rue du Général de Gaulle 97400 Saint-Denis", "postcode": "97400", "citycode": "97411",
     "city": "Saint-Denis", "id": "97411_1234_00012", "street": "Rue du Général de Gaulle"},
]


def _words(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return plain.replace("-", " ").split()


class FakeBan:
    def __init__(self) -> None:
        self.port = free_port()
        self.delay = 0.0
        self.status = 200
        self.queries: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _answer(self, query: str, limit: int) -> dict[str, Any]:
        asked = _words(query)
        found = [a for a in ADDRESSES if all(any(w.startswith(q) for w in _words(a["label"])) for q in asked)]
        return {"type": "FeatureCollection", "version": "draft", "query": query, "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.78, 50.29]},
             "properties": {**address, "score": 0.9, "type": "housenumber"}} for address in found[:limit]]}

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                url = urlsplit(self.path)
                params = parse_qs(url.query)
                query = params.get("q", [""])[0]
                fake.queries.append(query)
                time.sleep(fake.delay)
                if url.path != "/search/":
                    status, body = 404, {"message": "not found"}
                elif fake.status != 200:
                    status, body = fake.status, {"code": fake.status, "message": "indisponible"}
                else:
                    status, body = 200, fake._answer(query, int(params.get("limit", ["5"])[0]))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeBan:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
