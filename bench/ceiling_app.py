"""The framework ceiling: a minimal Tornado app that sends pre-encoded person bodies, without Redis.

Run: python bench/ceiling_app.py PORT [PROCESSES]
"""

from __future__ import annotations

import asyncio
import sys

import tornado.httpserver
import tornado.netutil
import tornado.process
import tornado.web

PERSON = (
    b'{"id":"0b8f3c52-6f1e-4d43-9a4e-2f8f7a1c9d10","version":3,"first_name":"First1",'
    b'"middle_name":null,"last_name":"Last1","email":"person1@example.com","age":1,'
    b'"updated_at":"2026-12-04T19:20:00.123Z"}'
)
READ_ALL_COUNT = 10_000


class PersonHandler(tornado.web.RequestHandler):
    def get(self, person_id: str, version: str | None = None) -> None:
        self.set_header("Content-Type", "application/json")
        self.set_header("ETag", '"1-3"')
        self.finish(PERSON)

    def put(self, person_id: str) -> None:
        self.get(person_id)


class PersonsHandler(tornado.web.RequestHandler):
    def post(self) -> None:
        self.set_status(201)
        self.set_header("Content-Type", "application/json")
        self.set_header("Location", "/persons/0b8f3c52-6f1e-4d43-9a4e-2f8f7a1c9d10")
        self.set_header("ETag", '"1-1"')
        self.finish(PERSON)

    async def get(self) -> None:
        # The same bytes as a read-all of READ_ALL_COUNT persons, in chunks of 500.
        self.set_header("Content-Type", "application/json")
        self.write(b"[")
        for start in range(0, READ_ALL_COUNT, 500):
            self.write((b"," if start else b"") + b",".join([PERSON] * 500))
            await self.flush()
        self.finish(b"]")


async def serve(sockets: list) -> None:
    app = tornado.web.Application([
        (r"/persons", PersonsHandler),
        (r"/persons/([^/]+)", PersonHandler),
        (r"/persons/([^/]+)/versions/([^/]+)", PersonHandler),
    ])
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets(sockets)
    await asyncio.Event().wait()


def main(port: int, processes: int) -> None:
    sockets = tornado.netutil.bind_sockets(port, "127.0.0.1")
    if processes > 1:
        tornado.process.fork_processes(processes)
    asyncio.run(serve(sockets))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 1)
