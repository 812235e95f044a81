"""A loopback server that speaks enough of the Hugging Face Hub's HTTP API for tests, offline.

``huggingface_hub`` 2.x and ``datasets`` 5.x talk to it unchanged once ``HF_ENDPOINT`` points at it (and
``HF_HUB_DISABLE_XET=1``, so that uploads use the classic LFS protocol): ``create_repo``, ``upload_folder``,
``hf_hub_download``, ``Dataset.push_to_hub``, ``load_dataset(repo_id)``, ``ModelCard.push_to_hub``,
``PeftModel.push_to_hub`` / ``from_pretrained``.

Routes (as on huggingface.co; ``{t}`` is ``models``, ``datasets`` or ``spaces``; file URLs of datasets carry a
``datasets/`` prefix, those of Spaces ``spaces/``, those of models none):

- ``GET /api/whoami-v2``, ``POST /api/repos/create``, ``POST /api/validate-yaml``
- ``GET /api/{t}/{ns}/{name}[/revision/{rev}]``: repo info with ``sha`` and ``siblings``
- ``POST /api/{t}/{ns}/{name}/preupload/{rev}``: upload mode per file (LFS for binary formats and large files)
- ``POST /[datasets/|spaces/]{ns}/{name}.git/info/lfs/objects/batch`` + ``PUT /lfs-upload/{sha256}`` (basic transfer)
- ``POST /api/{t}/{ns}/{name}/commit/{rev}``: NDJSON header + ``file`` / ``lfsFile`` / ``deletedFile`` /
  ``deletedFolder`` lines
- ``GET /api/{t}/{ns}/{name}/tree/{rev}[/{path}]``, ``POST /api/{t}/{ns}/{name}/paths-info/{rev}``
- ``GET|HEAD /[datasets/|spaces/]{ns}/{name}/resolve/{rev}/{path}`` with ``ETag``, ``X-Repo-Commit``, ``Content-Length``
  and byte ranges

Errors carry the ``X-Error-Code`` header (``RepoNotFound``, ``RevisionNotFound``, ``EntryNotFound``) from which
``huggingface_hub`` builds its typed exceptions. Storage is a folder: one tree of files per repo (main branch only,
each commit a new sha) and a content-addressed LFS store.

Failure injection for reliability tests: ``fail_next(n, status=500)`` answers the next ``n`` matching requests with
that status; ``fail_next(n, drop=True)`` announces a body and closes the connection before sending it (what a proxy
that drops the connection looks like to the client).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

USER = "mmrqa-tester"
LFS_SUFFIXES = (".parquet", ".safetensors", ".bin", ".png", ".arrow", ".pt", ".h5", ".nii", ".gz", ".zip", ".jpg")
LFS_MIN_SIZE = 10 * 1024 * 1024  # the Hub stores any file over 10 MB in LFS
PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
PLURAL = {"models": "model", "datasets": "dataset", "spaces": "space"}


def git_blob_oid(content: bytes) -> str:
    """The git object id of a blob: sha1 of ``b"blob <size>\\0" + content`` (what the Hub reports as ``oid``)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool = False
    sdk: str | None = None  # Spaces only: gradio, docker, static, ...
    sha: str = field(default_factory=lambda: secrets.token_hex(20))
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # path -> {oid, size, lfs: sha256 | None}
    commits: list[str] = field(default_factory=list)


@dataclass
class _Failure:
    remaining: int
    status: int
    drop: bool
    match: str | None


class HubState:
    """Repositories, blobs and pending injected failures, behind one lock."""

    def __init__(self, root: Path, token: str) -> None:
        self.root, self.token = root, token
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lock = threading.RLock()
        self.failures: list[_Failure] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, for assertions
        (root / "lfs").mkdir(parents=True, exist_ok=True)
        (root / "repos").mkdir(parents=True, exist_ok=True)

    def blob_path(self, repo: Repo, path: str) -> Path:
        return self.root / "repos" / repo.repo_type / repo.repo_id / path

    def read(self, repo: Repo, path: str) -> bytes:
        entry = repo.files[path]
        if entry["lfs"]:
            return (self.root / "lfs" / entry["lfs"]).read_bytes()
        return self.blob_path(repo, path).read_bytes()

    def take_failure(self, path: str) -> _Failure | None:
        with self.lock:
            for failure in self.failures:
                if failure.remaining > 0 and (failure.match is None or failure.match in path):
                    failure.remaining -= 1
                    return failure
            return None


def _error(status: int, code: str | None, message: str) -> JSONResponse:
    headers = {"X-Error-Message": message}
    if code:
        headers["X-Error-Code"] = code
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _entry(path: str, info: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "file", "oid": info["oid"], "size": info["size"], "path": path}
    if info["lfs"]:
        entry["lfs"] = {"oid": info["lfs"], "size": info["size"], "pointerSize": 134}
    return entry


def _folder(path: str) -> dict[str, Any]:
    return {"type": "directory", "oid": hashlib.sha1(path.encode()).hexdigest(), "path": path}


def _children(repo: Repo, prefix: str, recursive: bool) -> list[dict[str, Any]]:
    """Entries under folder ``prefix`` ("" = root): files, and the folders that contain them."""
    base = prefix.rstrip("/") + "/" if prefix else ""
    out: dict[str, dict[str, Any]] = {}
    for path, info in sorted(repo.files.items()):
        if not path.startswith(base):
            continue
        parts = path[len(base) :].split("/")
        for depth in range(1, len(parts)):
            folder = base + "/".join(parts[:depth])
            if depth == 1 or recursive:
                out.setdefault(folder, _folder(folder))
        if len(parts) == 1 or recursive:
            out[path] = _entry(path, info)
    return list(out.values())


def create_app(state: HubState) -> FastAPI:  # noqa: C901 - one closure per route keeps the routing readable
    app = FastAPI()

    @app.middleware("http")
    async def inject_failures_and_check_token(request: Request, call_next):
        state.requests.append((request.method, request.url.path))
        failure = state.take_failure(request.url.path)
        if failure is not None and failure.drop:
            return _DroppedResponse()
        if failure is not None:
            return _error(failure.status, None, f"injected failure ({failure.status})")
        auth = request.headers.get("authorization")
        if auth is not None and auth != f"Bearer {state.token}":
            return _error(401, None, "Invalid credentials in Authorization header")
        return await call_next(request)

    def find(repo_type: str, repo_id: str, revision: str | None = "main") -> Repo | JSONResponse:
        repo = state.repos.get((repo_type, repo_id))
        if repo is None:
            return _error(404, "RepoNotFound", f"Repository {repo_id} not found")
        if revision not in (None, "main", repo.sha) and revision not in repo.commits:
            return _error(404, "RevisionNotFound", f"Revision {revision} not found")
        return repo

    @app.get("/api/whoami-v2")
    def whoami(request: Request):
        if request.headers.get("authorization") is None:
            return _error(401, None, "Invalid credentials in Authorization header")
        token = {"displayName": "loopback", "role": "write"}
        return {"type": "user", "name": USER, "fullname": "MMRQA tester", "orgs": [], "auth": {"accessToken": token}}

    @app.post("/api/repos/create")
    async def create_repo(request: Request):
        body = await request.json()
        repo_type = body.get("type") or "model"
        repo_id = f"{body.get('organization') or USER}/{body['name']}"
        url = f"{request.base_url}{PREFIX[repo_type]}{repo_id}"
        with state.lock:
            if (repo_type, repo_id) in state.repos:  # the Hub answers 409 with the url (exist_ok reads it)
                message = "You already created this repo"
                return JSONResponse(
                    {"error": message, "url": url}, status_code=409, headers={"X-Error-Message": message}
                )
            private = body.get("visibility") == "private" or bool(body.get("private"))
            if repo_type == "space" and not body.get("sdk"):  # the Hub refuses a Space without its SDK
                return _error(400, None, "a Space needs an sdk (gradio, docker, static, ...)")
            state.repos[(repo_type, repo_id)] = Repo(repo_type, repo_id, private=private, sdk=body.get("sdk"))
        return {"url": url, "name": repo_id}

    @app.post("/api/validate-yaml")
    def validate_yaml():
        return {"errors": [], "warnings": []}

    @app.get("/api/{kind}/{ns}/{name}")
    @app.get("/api/{kind}/{ns}/{name}/revision/{revision}")
    def repo_info(kind: str, ns: str, name: str, revision: str = "main"):
        repo = find(PLURAL.get(kind, kind), f"{ns}/{name}", revision)
        if isinstance(repo, JSONResponse):
            return repo
        siblings = [{"rfilename": p, "size": i["size"], "blobId": i["oid"]} for p, i in sorted(repo.files.items())]
        return {
            "id": repo.repo_id,
            "author": repo.repo_id.split("/")[0],
            "sha": repo.sha,
            "private": repo.private,
            "lastModified": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "siblings": siblings,
            "tags": [],
            **({"sdk": repo.sdk} if repo.sdk else {}),
        }

    @app.post("/api/{kind}/{ns}/{name}/preupload/{revision}")
    async def preupload(kind: str, ns: str, name: str, revision: str, request: Request):
        repo = find(PLURAL[kind], f"{ns}/{name}", revision)
        if isinstance(repo, JSONResponse):
            return repo
        files = []
        for item in (await request.json())["files"]:
            path, size = item["path"], int(item["size"])
            lfs = path.lower().endswith(LFS_SUFFIXES) or size >= LFS_MIN_SIZE
            existing = repo.files.get(path)
            files.append(
                {
                    "path": path,
                    "uploadMode": "lfs" if lfs else "regular",
                    "shouldIgnore": False,
                    "oid": existing["oid"] if existing else None,
                }
            )
        return {"files": files, "commitOid": repo.sha}

    @app.post("/{ns}/{name}.git/info/lfs/objects/batch")
    @app.post("/datasets/{ns}/{name}.git/info/lfs/objects/batch")
    @app.post("/spaces/{ns}/{name}.git/info/lfs/objects/batch")
    async def lfs_batch(ns: str, name: str, request: Request):
        objects = []
        for obj in (await request.json())["objects"]:
            out = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
            if not (state.root / "lfs" / obj["oid"]).exists():
                href = f"{request.base_url}lfs-upload/{obj['oid']}"
                out["actions"] = {"upload": {"href": href, "header": {}}}
            objects.append(out)
        return JSONResponse({"transfer": "basic", "objects": objects}, media_type="application/vnd.git-lfs+json")

    @app.put("/lfs-upload/{oid}")
    async def lfs_upload(oid: str, request: Request):
        content = await request.body()
        if hashlib.sha256(content).hexdigest() != oid:
            return _error(400, None, f"content does not match sha256 {oid}")
        tmp = state.root / "lfs" / f".{oid}.{secrets.token_hex(4)}"
        tmp.write_bytes(content)
        tmp.replace(state.root / "lfs" / oid)
        return Response(status_code=200)

    @app.post("/api/{kind}/{ns}/{name}/commit/{revision}")
    async def commit(kind: str, ns: str, name: str, revision: str, request: Request):
        repo = find(PLURAL[kind], f"{ns}/{name}", revision)
        if isinstance(repo, JSONResponse):
            return repo
        lines = [json.loads(line) for line in (await request.body()).splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            return _error(400, None, "commit payload must start with a header line")
        with state.lock:
            return _apply_commit(state, repo, lines[1:], str(request.base_url))

    @app.get("/api/{kind}/{ns}/{name}/tree/{revision}")
    @app.get("/api/{kind}/{ns}/{name}/tree/{revision}/{path:path}")
    def tree(kind: str, ns: str, name: str, revision: str, path: str = "", recursive: bool = False):
        repo = find(PLURAL[kind], f"{ns}/{name}", revision)
        if isinstance(repo, JSONResponse):
            return repo
        path = path.strip("/")
        if path in repo.files:
            return [_entry(path, repo.files[path])]
        entries = _children(repo, path, recursive)
        if path and not entries:
            return _error(404, "EntryNotFound", f"{path} does not exist on main")
        return entries

    @app.post("/api/{kind}/{ns}/{name}/paths-info/{revision}")
    async def paths_info(kind: str, ns: str, name: str, revision: str, request: Request):
        repo = find(PLURAL[kind], f"{ns}/{name}", revision)
        if isinstance(repo, JSONResponse):
            return repo
        form = await request.form()
        out = []
        for path in form.getlist("paths"):
            path = str(path).strip("/")
            if path in repo.files:
                out.append(_entry(path, repo.files[path]))
            elif _children(repo, path, recursive=False):
                out.append(_folder(path))
        return out

    @app.api_route("/{ns}/{name}/resolve/{revision}/{path:path}", methods=["GET", "HEAD"])
    @app.api_route("/datasets/{ns}/{name}/resolve/{revision}/{path:path}", methods=["GET", "HEAD"])
    @app.api_route("/spaces/{ns}/{name}/resolve/{revision}/{path:path}", methods=["GET", "HEAD"])
    def resolve(ns: str, name: str, revision: str, path: str, request: Request):
        prefix = request.url.path.split("/")[1]
        repo_type = {"datasets": "dataset", "spaces": "space"}.get(prefix, "model")
        repo = find(repo_type, f"{ns}/{name}", revision)
        if isinstance(repo, JSONResponse):
            return repo
        if path not in repo.files:
            return _error(404, "EntryNotFound", f"{path} does not exist on {revision}")
        return _file_response(state, repo, path, request)

    return app


def _apply_commit(state: HubState, repo: Repo, operations: list[dict[str, Any]], base_url: str) -> JSONResponse:
    """Validate every operation first, then apply them all: a commit is atomic."""
    staged: list[tuple[str, str, Any]] = []
    for op in operations:
        key, value = op["key"], op["value"]
        path = value["path"].strip("/")
        if key == "file":
            staged.append(("add", path, base64.b64decode(value["content"])))
        elif key == "lfsFile":
            if not (state.root / "lfs" / value["oid"]).exists():
                return _error(400, None, f"LFS object {value['oid']} of {path} was never uploaded")
            staged.append(("lfs", path, value["oid"]))
        elif key in ("deletedFile", "deletedFolder"):
            staged.append(("delete", path, key == "deletedFolder"))
        else:
            return _error(400, None, f"unknown commit operation {key!r}")
    for action, path, payload in staged:
        if action == "add":
            target = state.blob_path(repo, path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(payload)
            repo.files[path] = {"oid": git_blob_oid(payload), "size": len(payload), "lfs": None}
        elif action == "lfs":
            size = (state.root / "lfs" / payload).stat().st_size
            repo.files[path] = {"oid": hashlib.sha1(payload.encode()).hexdigest(), "size": size, "lfs": payload}
        else:
            doomed = [p for p in repo.files if p == path or (payload and p.startswith(path + "/"))]
            for p in doomed:
                del repo.files[p]
    repo.commits.append(repo.sha)
    repo.sha = secrets.token_hex(20)
    url = f"{base_url}{PREFIX[repo.repo_type]}{repo.repo_id}/commit/{repo.sha}"
    return JSONResponse({"success": True, "commitOid": repo.sha, "commitUrl": url})


def _file_response(state: HubState, repo: Repo, path: str, request: Request) -> Response:
    info = repo.files[path]
    content = state.read(repo, path)
    headers = {
        "ETag": f'"{info["lfs"] or info["oid"]}"',
        "X-Repo-Commit": repo.sha,
        "Accept-Ranges": "bytes",
        "Content-Disposition": f'inline; filename="{Path(path).name}"',
    }
    if info["lfs"]:
        headers["X-Linked-Etag"] = f'"{info["lfs"]}"'
        headers["X-Linked-Size"] = str(info["size"])
    status = 200
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", request.headers.get("range", ""))
    if match and content:
        start_s, end_s = match.groups()
        if start_s:
            start, end = int(start_s), min(int(end_s) if end_s else len(content) - 1, len(content) - 1)
        else:
            start, end = max(len(content) - int(end_s), 0), len(content) - 1
        if start >= len(content):
            return Response(status_code=416, headers={"Content-Range": f"bytes */{len(content)}"})
        headers["Content-Range"] = f"bytes {start}-{end}/{len(content)}"
        content, status = content[start : end + 1], 206
    headers["Content-Length"] = str(len(content))
    body = b"" if request.method == "HEAD" else content
    return Response(content=body, status_code=status, headers=headers, media_type="application/octet-stream")


class _DroppedResponse(Response):
    """Announces a body of 1 MiB, sends a few bytes, then ends: the client sees the connection cut mid-response."""

    async def __call__(self, scope, receive, send) -> None:
        headers = [(b"content-length", b"1048576"), (b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"trunc', "more_body": False})


class LoopbackHub:
    """The server in a background thread. ``endpoint`` is its URL, ``token`` the one token it accepts."""

    def __init__(self, port: int, token: str, root: Path) -> None:
        import uvicorn

        self.port, self.token, self.root = port, token, root
        self.endpoint = f"http://127.0.0.1:{port}"
        self.state = HubState(root, token)
        config = uvicorn.Config(
            create_app(self.state), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="loopback-hub", daemon=True)

    def start(self, timeout: float = 20.0) -> LoopbackHub:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"loopback Hub did not start on port {self.port}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)

    def fail_next(self, n: int = 1, status: int = 500, *, drop: bool = False, match: str | None = None) -> None:
        """Answer the next ``n`` requests whose path contains ``match`` (any path if None) with ``status``,
        or, with ``drop=True``, cut the connection mid-response."""
        with self.state.lock:
            self.state.failures.append(_Failure(n, status, drop, match))

    def clear_failures(self) -> None:
        with self.state.lock:
            self.state.failures.clear()

    @property
    def requests(self) -> list[tuple[str, str]]:
        return list(self.state.requests)

    def files(self, repo_id: str, repo_type: str = "model") -> dict[str, int]:
        """Path -> size of the files on main of a repo (empty if the repo does not exist)."""
        repo = self.state.repos.get((repo_type, repo_id))
        return {p: i["size"] for p, i in sorted(repo.files.items())} if repo else {}
