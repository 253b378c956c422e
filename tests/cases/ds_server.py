"""A local Démarches Simplifiées: an HTTP server in a thread that executes GraphQL against
DS's **published schema** (``cases/data/ds/schema.graphql``, committed with its source) on
recorded example data (``data/ds/demarche-4242.json``, DS objects as the API returns
them), and serves the dossiers' files.

Every document it receives is validated against the schema first: a field, argument or
input that DS does not have is recorded in ``invalid`` (the tests' fixture fails on it)
and answered with GraphQL errors, as DS does. Mutations change the dossier's state with
DS's rules (a dossier is decided only in instruction, once)."""

from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from graphql import build_schema, graphql_sync, parse, validate

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data" / "ds"
SCHEMA = build_schema((ROOT / "cases" / "data" / "ds" / "schema.graphql").read_text())
TOKEN = "ds-test-token-0123456789"  # an instructor of every group of the démarche
#: a token sees the dossiers of its instructor's groups (None: all)
TOKENS = {TOKEN: None, "ds-token-group-11": {11}, "ds-token-group-12": {12}}
INSTRUCTEUR = "SW5zdHJ1Y3RldXItNzc="  # « Instructeur-77 »


class DsServer:
    def __init__(self):
        self.received: list[dict] = []
        self.invalid: list[str] = []
        self.mutations: list[tuple[str, dict]] = []
        self.fail_pages_after: set[str | None] = set()  # cursors whose page answers 500
        self.missing_files: set[str] = set()  # files answered 404
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        recorded = (DATA / "demarche-4242.json").read_text().replace("{server}", self.url)
        self.demarche = json.loads(recorded)["data"]["demarche"]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # ------------------------------------------------------------ data
    def dossier(self, number: int) -> dict:
        return next(d for d in self.demarche["dossiers"] if d["number"] == number)

    def _by_id(self, dossier_id: str) -> dict | None:
        return next((d for d in self.demarche["dossiers"] if d["id"] == dossier_id), None)

    @staticmethod
    def _visible(info, dossier: dict) -> bool:
        groups = info.context["groups"]
        return groups is None or dossier["groupeInstructeur"]["number"] in groups

    def _dossiers(self, info, first=None, after=None, updatedSince=None, group=None, **_):
        if after in self.fail_pages_after:
            raise RuntimeError("HTTP 500")
        nodes = [
            d
            for d in self.demarche["dossiers"]
            if (updatedSince is None or d["dateDerniereModification"] >= updatedSince)
            and self._visible(info, d)
            and (group is None or d["groupeInstructeur"]["number"] == group)
        ]
        start = int(after.removeprefix("cursor-")) if after else 0
        page = nodes[start : start + (first or 100)]
        end = start + len(page)
        return {
            "pageInfo": {
                "hasNextPage": end < len(nodes),
                "hasPreviousPage": start > 0,
                "endCursor": f"cursor-{end}" if page else after,
                "startCursor": f"cursor-{start}",
            },
            "nodes": page,
        }

    def _demarche(self, info, number):
        if number != self.demarche["number"]:
            raise ValueError("Demarche not found")
        return {**self.demarche, "dossiers": self._dossiers}

    def _groupe(self, info, number):
        groups = info.context["groups"]
        if groups is not None and number not in groups:
            raise PermissionError(
                "An object of type GroupeInstructeur was hidden due to permissions"
            )
        found = next(
            (
                d["groupeInstructeur"]
                for d in self.demarche["dossiers"]
                if d["groupeInstructeur"]["number"] == number
            ),
            None,
        )
        if found is None:
            raise ValueError("GroupeInstructeur not found")

        def dossiers(info, **kw):
            return self._dossiers(info, group=number, **kw)

        return {**found, "dossiers": dossiers}

    # ------------------------------------------------------------ mutations
    def _mutation(self, name: str, wanted: set[str], target: str):
        def resolve(info, input):
            self.mutations.append((name, copy.deepcopy(input)))
            dossier = self._by_id(input["dossierId"])
            if (
                dossier is None
                or input["instructeurId"] != INSTRUCTEUR
                or not self._visible(info, dossier)
            ):
                return {"dossier": None, "errors": [{"message": "Dossier ou instructeur inconnu"}]}
            if dossier["state"] not in wanted:
                message = f"Le dossier est déjà {dossier['state']}"
                return {"dossier": None, "errors": [{"message": message}]}
            dossier["state"] = target
            dossier["motivation"] = input.get("motivation")
            return {"dossier": dossier, "errors": None}

        return resolve

    def _root(self) -> dict:
        return {
            "demarche": self._demarche,
            "groupeInstructeur": self._groupe,
            "dossierPasserEnInstruction": self._mutation(
                "dossierPasserEnInstruction", {"en_construction"}, "en_instruction"
            ),
            "dossierAccepter": self._mutation("dossierAccepter", {"en_instruction"}, "accepte"),
            "dossierRefuser": self._mutation("dossierRefuser", {"en_instruction"}, "refuse"),
        }

    def execute(self, body: dict, token: str = TOKEN) -> tuple[int, dict]:
        self.received.append(body)
        try:
            document = parse(body["query"])
        except Exception as exc:
            self.invalid.append(str(exc))
            return 200, {"errors": [{"message": str(exc)}]}
        errors = validate(SCHEMA, document)
        if errors:
            self.invalid.extend(e.message for e in errors)
            return 200, {"errors": [{"message": e.message} for e in errors]}
        result = graphql_sync(
            SCHEMA,
            body["query"],
            root_value=self._root(),
            variable_values=body.get("variables"),
            context_value={"groups": TOKENS[token]},
        )
        if result.errors and any("HTTP 500" in e.message for e in result.errors):
            return 500, {"errors": [{"message": "Internal server error"}]}
        answer = {"data": result.data}
        if result.errors:
            answer["errors"] = [{"message": e.message} for e in result.errors]
        return 200, answer

    # ------------------------------------------------------------ HTTP
    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: bytes, ctype="application/json"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if token not in TOKENS:
                    self._send(403, b'{"errors":[{"message":"Forbidden"}]}')
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length))
                status, answer = server.execute(body, token)
                self._send(status, json.dumps(answer).encode())

            def do_GET(self):
                name = self.path.removeprefix("/files/")
                path = DATA / "files" / name
                if name in server.missing_files or "/" in name or not path.is_file():
                    self._send(404, b"not found", "text/plain")
                    return
                self._send(200, path.read_bytes(), "application/octet-stream")

        return Handler

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
