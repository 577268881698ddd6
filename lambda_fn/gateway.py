"""API Gateway proxy events in, proxy responses out: REST API (payload 1.0),
HTTP API (2.0) and Function URLs (2.0).

Four fixed routes need no routing framework, and Powertools' event_handler
package costs about 60 ms of cold start to import (its __init__ loads every
resolver it has). A Request is built fresh for each event, so concurrent
invocations on one process never share one.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

JSON = "application/json"


class BodyError(ValueError):
    """The body is flagged base64 but is not base64-encoded UTF-8."""


@dataclass(frozen=True)
class Request:
    method: str  # upper case
    path: str  # without the stage prefix or trailing slashes; "/" at least
    headers: dict[str, str]  # names in lower case
    raw_body: str | None
    base64_body: bool
    request_id: str | None

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def body(self) -> str | None:
        """The body as text; raises BodyError when base64 decoding fails."""
        if not self.base64_body or not self.raw_body:
            return self.raw_body
        try:
            return base64.b64decode(self.raw_body, validate=True).decode("utf-8")
        except (binascii.Error, ValueError) as exc:  # UnicodeError is a ValueError
            raise BodyError("body is not valid base64-encoded UTF-8") from exc


def read_request(event: dict, http_api: bool) -> Request:
    """The parts of an event the routes read. events.kind_of has checked the
    fields' types (method and path strings, headers an object or null)."""
    context = event["requestContext"]
    if http_api:
        method = context["http"]["method"]
        path = event["rawPath"]
        # A named stage prefixes the path ("/prod/predict"), except behind a
        # custom domain's mapping, which strips it.
        stage = context.get("stage")
        if isinstance(stage, str) and stage != "$default":
            prefix = "/" + stage
            if path == prefix or path.startswith(prefix + "/"):
                path = path[len(prefix) :]
    else:
        method = event["httpMethod"]
        path = event["path"]
    headers = {
        name.lower(): value
        for name, value in (event.get("headers") or {}).items()
        if isinstance(name, str) and isinstance(value, str)
    }
    request_id = context.get("requestId")
    return Request(
        method=method.upper(),
        path=path.rstrip("/") or "/",
        headers=headers,
        raw_body=event.get("body"),
        base64_body=event.get("isBase64Encoded") is True,
        request_id=request_id if isinstance(request_id, str) else None,
    )


def response(http_api: bool, status: int, body: str, headers: dict[str, str]) -> dict:
    """The proxy response of the event's payload version: REST APIs take
    multiValueHeaders, HTTP APIs and Function URLs take headers."""
    if http_api:
        return {"statusCode": status, "headers": headers, "body": body, "isBase64Encoded": False}
    return {
        "statusCode": status,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "body": body,
        "isBase64Encoded": False,
    }
