"""The classic stack for comparison: Flask and synchronous redis-py, run under gunicorn.

It reads and writes the same Redis layout with the same Lua scripts as
personsvc, and validates bodies with the same jsonschema validator, so the
difference is the web stack.
Run: gunicorn --workers 1 --bind 127.0.0.1:PORT 'flask_app:create_app("redis://...")'
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import redis
from flask import Flask, Response, request

from personsvc import store
from personsvc.errors import ValidationFailed
from personsvc.validation import encode_fields, validate_create, validate_replace


def create_app(redis_url: str) -> Flask:
    app = Flask(__name__)
    client = redis.Redis.from_url(redis_url)
    scripts = {name: client.register_script(store._load_script(name)) for name in ("create", "read", "update", "read_batch")}

    def now() -> str:
        moment = datetime.now(UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    def person_response(reply: list, status: int = 200) -> Response:
        if reply[0] == 404:
            return Response('{"status":404}', status=404, content_type="application/problem+json")
        response = Response(reply[1], status=status, content_type="application/json")
        response.headers["ETag"] = f'"{reply[2].decode()}"'
        return response

    @app.get("/persons/<person_id>")
    def read_person(person_id: str) -> Response:
        return person_response(scripts["read"](keys=[store.meta_key(person_id)], args=[""]))

    @app.get("/persons/<person_id>/versions/<int:version>")
    def read_version(person_id: str, version: int) -> Response:
        return person_response(scripts["read"](keys=[store.meta_key(person_id)], args=[version]))

    @app.post("/persons")
    def create_person() -> Response:
        try:
            fields = validate_create(json.loads(request.get_data()))
        except ValidationFailed:
            return Response('{"status":400}', status=400, content_type="application/problem+json")
        person_id = str(uuid.uuid4())
        reply = scripts["create"](keys=[store.meta_key(person_id), store.INDEX_KEY, store.SEQUENCE_KEY],
                                  args=[person_id, encode_fields(fields), now()])
        response = person_response(reply, status=201)
        response.headers["Location"] = f"/persons/{person_id}"
        return response

    @app.put("/persons/<person_id>")
    def replace_person(person_id: str) -> Response:
        try:
            fields, version = validate_replace(json.loads(request.get_data()), person_id)
        except ValidationFailed:
            return Response('{"status":400}', status=400, content_type="application/problem+json")
        reply = scripts["update"](keys=[store.meta_key(person_id)],
                                  args=[person_id, encode_fields(fields), now(), "", "" if version is None else version])
        return person_response(reply)

    @app.get("/persons")
    def read_all() -> Response:
        def generate():
            after_seq, more = 0, True
            yield b"["
            first = True
            while more:
                reply = scripts["read_batch"](keys=[store.INDEX_KEY], args=[after_seq, 500, store.META_KEY_PREFIX])
                after_seq, more, docs = int(reply[0] or after_seq), reply[1] == 1, reply[2:]
                if docs:
                    yield (b"" if first else b",") + b",".join(docs)
                    first = False
            yield b"]"
        return Response(generate(), content_type="application/json")

    return app
