"""A local HTTP endpoint for the scoring function, without Docker (`make serve`).

Each HTTP request becomes an API Gateway HTTP API (payload 2.0) event and goes
to the same handler the Lambda image runs (lambda_fn.app.handler); its answer
goes back as the HTTP response. For development and client tests only: it is
not in the image, does not check SigV4, and listens on 127.0.0.1 unless
--allow-remote is given.

    imbalanced-serve --model artifacts/model.onnx --port 8000
    python -m serve ...   (or scripts/serve.py, as `make serve` runs it)

GET /openapi.json answers the function's document rewritten for this server
(contract.openapi.for_local): this server as its only `servers` entry and no
SigV4 requirement, since it checks none.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import ipaddress
import json
import os
import shlex
import signal
import sys
import threading
import time
import traceback
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

# The repository, when running from a checkout: --runtime rie uses its scripts/.
ROOT = Path(__file__).resolve().parents[1]
# API Gateway HTTP APIs accept at most 10 MB; Lambda's own payload limit is lower.
MAX_REQUEST_BYTES = 10 * 1024 * 1024
TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded")


def to_event(method: str, target: str, headers, body: bytes, client_ip: str) -> dict:
    """An HTTP request as API Gateway's HTTP API hands it to Lambda (payload format 2.0)."""
    url = urlsplit(target)
    lowered: dict[str, str] = {}
    cookies = []
    for name, value in headers.items():
        name = name.lower()
        if name == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        lowered[name] = f"{lowered[name]},{value}" if name in lowered else value
    now = datetime.now(UTC)
    request_id = str(uuid.uuid4())
    event = {
        "version": "2.0",
        "routeKey": f"{method} {url.path}",
        "rawPath": url.path,
        "rawQueryString": url.query,
        "headers": lowered,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": lowered.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": url.path,
                "protocol": "HTTP/1.1",
                "sourceIp": client_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": f"{method} {url.path}",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if url.query:
        params: dict[str, str] = {}
        for key, value in parse_qsl(url.query, keep_blank_values=True):
            params[key] = f"{params[key]},{value}" if key in params else value
        event["queryStringParameters"] = params
    if body:
        content_type = lowered.get("content-type", "").lower()
        text = None
        if not content_type or content_type.startswith(TEXT_TYPES):
            with contextlib.suppress(UnicodeDecodeError):
                text = body.decode("utf-8")
        if text is None:  # binary, as API Gateway passes it: base64
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
        else:
            event["body"] = text
    return event


def in_process_invoker(model: Path):
    """The handler in this process, loaded as Lambda loads it (MODEL_PATH at import)."""
    os.environ["MODEL_PATH"] = str(model)
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "imbalanced-classifier-local")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ImbalancedClassifierLocal")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # no EMF lines on the console
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from lambda_fn import app

    return lambda event: app.handler(event, None)


def rie_invoker(model: Path, stack: contextlib.ExitStack):
    """The handler under the real Lambda runtime (scripts/invoke_rie.py's emulator)."""
    if not (ROOT / "scripts" / "invoke_rie.py").is_file():
        raise RuntimeError("--runtime rie runs from a repository checkout (scripts/invoke_rie.py)")
    sys.path.insert(0, str(ROOT))
    from scripts import invoke_rie

    user = invoke_rie.unprivileged_user()
    python = invoke_rie.function_python(user)
    base, task, runtime = stack.enter_context(invoke_rie.task_root(model))
    quiet = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}
    emulator = invoke_rie.Emulator(task, runtime, python, user, quiet, base / "rie.log")
    stack.callback(emulator.stop)

    def invoke(event):
        answer, _ = emulator.invoke(event)
        if isinstance(answer, dict) and "errorType" in answer:  # the function raised
            raise RuntimeError(f"{answer['errorType']}: {answer.get('errorMessage')}")
        return answer

    return invoke


def local_document(body: bytes, url: str) -> bytes:
    """The function's OpenAPI document, as this server's (see the module's docstring)."""
    from contract.openapi import for_local

    return json.dumps(for_local(json.loads(body), url), separators=(",", ":")).encode()


def make_handler(invoke, url: str):
    # One invocation at a time, as in one Lambda execution environment; the
    # threads only read and write the HTTP requests concurrently.
    invocation = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "imbalanced-serve/1"

        def _answer(self, status: int, headers: dict, body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _gateway_error(self, status: int, message: str) -> None:
            body = json.dumps({"message": message}).encode()
            self._answer(status, {"Content-Type": "application/json"}, body)

        def _handle(self) -> None:
            length = self.headers.get("Content-Length")
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                self.close_connection = True
                return self._gateway_error(411, "Length Required")
            try:
                size = int(length or 0)
            except ValueError:
                self.close_connection = True
                return self._gateway_error(400, "Bad Request")
            if size > MAX_REQUEST_BYTES or size < 0:
                self.close_connection = True
                return self._gateway_error(413, "Request Entity Too Large")
            body = self.rfile.read(size) if size else b""
            event = to_event(self.command, self.path, self.headers, body, self.client_address[0])
            try:
                with invocation:
                    result = invoke(event)
            except Exception:  # what API Gateway answers when the function fails
                traceback.print_exc()
                return self._gateway_error(500, "Internal Server Error")
            if not isinstance(result, dict) or "statusCode" not in result:
                print(f"handler returned a non-proxy answer: {result!r:.200}", file=sys.stderr)
                return self._gateway_error(500, "Internal Server Error")
            payload = result.get("body") or ""
            data = (
                base64.b64decode(payload)
                if result.get("isBase64Encoded")
                else str(payload).encode("utf-8")
            )
            headers = dict(result.get("headers") or {})
            for name, values in (result.get("multiValueHeaders") or {}).items():
                headers[name] = ",".join(map(str, values))
            path = urlsplit(self.path).path.rstrip("/")
            if self.command == "GET" and path == "/openapi.json" and result["statusCode"] == 200:
                data = local_document(data, url)
            self._answer(int(result["statusCode"]), headers, data)

        def __getattr__(self, name):
            # Every method goes to the handler (do_GET, do_TRACE, ...), as API Gateway
            # passes any method on to the routes.
            if name.startswith("do_"):
                return self._handle
            raise AttributeError(name)

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    return Handler


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def examples(url: str, record: dict) -> list[str]:
    body = json.dumps({"records": [record]})
    return [
        f"curl -s {url}/health",
        f"curl -s {url}/predict -H 'Content-Type: application/json' -d {shlex.quote(body)}",
        f"curl -s {url}/openapi.json -o openapi.json",
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="imbalanced-serve", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="artifacts/model.onnx", help="ONNX file from make export")
    p.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (loopback by default)")
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host: the server checks no signature, anyone who reaches "
        "it can call it",
    )
    p.add_argument(
        "--runtime",
        choices=["in-process", "rie"],
        default="in-process",
        help="rie: every request goes through the real Lambda runtime (the Runtime Interface "
        "Emulator from .venv-tools, as a non-root user), as `make invoke-rie` runs it",
    )
    args = p.parse_args(argv)
    if not _is_loopback(args.host) and not args.allow_remote:
        print(
            f"error: --host {args.host} is not a loopback address; this server has no "
            "authentication. Add --allow-remote to expose it anyway.",
            file=sys.stderr,
        )
        return 2
    model = Path(args.model)
    if not model.is_file():
        print(
            f"error: model not found: {model}; run `make demo` (or make export) first",
            file=sys.stderr,
        )
        return 2
    with contextlib.ExitStack() as stack:
        return _serve(args, model, stack)


def _serve(args, model: Path, stack: contextlib.ExitStack) -> int:
    started = time.perf_counter()
    try:
        if args.runtime == "rie":
            invoke = rie_invoker(model.resolve(), stack)
        else:
            invoke = in_process_invoker(model.resolve())
    except Exception as exc:  # ModelLoadError, ConfigError, RieError: one line, no traceback
        print(f"error: cannot start the handler: {exc}", file=sys.stderr)
        return 2
    from lambda_fn.model import Model

    loaded = Model.load(str(model))
    try:
        server = ThreadingHTTPServer((args.host, args.port), None)
    except OSError as exc:
        print(
            f"error: cannot listen on {args.host}:{args.port}: {exc.strerror}; "
            "choose another port (make serve PORT=8001, or 0 for any free one)",
            file=sys.stderr,
        )
        return 2
    server.daemon_threads = True
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}"
    server.RequestHandlerClass = make_handler(invoke, url)
    print(
        f"Serving {model} (model version {loaded.version}) at {url} "
        f"[{'real Lambda runtime (RIE)' if args.runtime == 'rie' else 'in-process handler'}, "
        f"loaded in {time.perf_counter() - started:.1f} s; Ctrl-C stops]"
    )
    print("Try:")
    for line in examples(url, loaded.schema.example_record()):
        print("  " + line)
    sys.stdout.flush()

    def stop(signum, frame):
        raise KeyboardInterrupt

    # Ctrl-C and `kill` stop it cleanly, also when started in the background.
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped")
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
