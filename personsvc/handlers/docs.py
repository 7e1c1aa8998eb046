"""``/openapi.json`` and ``/docs``: the API document and a Swagger UI page that renders it.

Swagger UI 5, the first release that renders OpenAPI 3.1, comes from the
drf-spectacular-sidecar wheel, which ships its static files. Nothing is
fetched from the internet when a page loads.
"""

from __future__ import annotations

import json
from importlib import resources

from personsvc import errors
from personsvc.handlers.base import JSON_TYPE, BaseHandler
from personsvc.openapi import build_document

SWAGGER_UI_FILES = resources.files("drf_spectacular_sidecar") / "static" / "drf_spectacular_sidecar" / "swagger-ui-dist"
SWAGGER_UI_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}

DOCS_PAGE = b"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>personsvc API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" href="/docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/assets/init.js"></script>
</body>
</html>
"""

# Kept out of the page so that the page works under a strict Content-Security-Policy.
DOCS_INIT_SCRIPT = b"""window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout"
});
"""


class OpenApiHandler(BaseHandler):
    """``/openapi.json``: the OpenAPI 3.1 document."""

    PATTERN = r"/openapi\.json"
    ROUTE = "/openapi.json"

    PROTECTED = False
    SUPPORTED_METHODS = ("GET", "HEAD", "OPTIONS")
    DOCUMENT = json.dumps(build_document(), indent=1).encode()

    def get(self) -> None:
        self.reject_query()
        self.set_header("Content-Type", JSON_TYPE)
        self.finish(self.DOCUMENT)

    head = get


class DocsHandler(BaseHandler):
    """``/docs``: the Swagger UI page, and ``/docs/assets/NAME``: its files."""

    ROUTE = "/docs"

    PROTECTED = False
    SUPPORTED_METHODS = ("GET", "HEAD", "OPTIONS")

    def parse_path(self) -> None:
        self.asset = self.path_args[0] if self.path_args else None

    def get(self, asset: str | None = None) -> None:
        self.reject_query()
        self.set_header("Cache-Control", "public, max-age=3600")
        if self.asset is None:
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(DOCS_PAGE)
        elif self.asset == "init.js":
            self.set_header("Content-Type", "text/javascript")
            self.finish(DOCS_INIT_SCRIPT)
        elif self.asset in SWAGGER_UI_ASSETS:
            self.set_header("Content-Type", SWAGGER_UI_ASSETS[self.asset])
            self.finish((SWAGGER_UI_FILES / self.asset).read_bytes())
        else:
            raise errors.NotFound(f"no file {self.asset[:80]!r} under /docs/assets")

    head = get
