"""Streamed array and NDJSON responses, written in batches with backpressure."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from tornado.iostream import StreamClosedError

from personsvc import errors
from personsvc.handlers.base import JSON_TYPE, BaseHandler

log = logging.getLogger("personsvc.request")

NDJSON_TYPE = "application/x-ndjson"


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def prefers_ndjson(accept: str) -> bool:
    """Return True if an Accept header ranks NDJSON at least as high as JSON."""
    ndjson_quality = json_quality = 0.0
    for part in accept.split(","):
        media_type, *parameters = part.split(";")
        media_type = media_type.strip().lower()
        if media_type == NDJSON_TYPE:
            ndjson_quality = max(ndjson_quality, _quality(parameters))
        elif media_type == JSON_TYPE:
            json_quality = max(json_quality, _quality(parameters))
    return ndjson_quality > 0 and ndjson_quality >= json_quality


class StreamingMixin(BaseHandler):
    """Write a sequence of JSON documents as one array or as NDJSON, batch by batch."""

    async def stream_documents(self, batches: AsyncIterator[list[bytes]]) -> None:
        """Stream the documents of ``batches``, awaiting each flush before the next batch.

        The first batch is read before anything is sent, so an error there
        still becomes a proper error response. A later Redis failure closes
        the connection without the final chunk, so the client sees a truncated
        response. A client that goes away ends the walk.
        """
        ndjson = prefers_ndjson(self.request.headers.get("Accept", ""))
        first = await anext(batches, [])
        self.set_header("Content-Type", NDJSON_TYPE if ndjson else JSON_TYPE)

        written = 0
        try:
            # Flushing before finish() makes every stream chunked, HEAD and an
            # empty result included, so all of them carry the same headers.
            self.write(b"" if ndjson else b"[")
            if self.request.method == "HEAD":
                await self.flush()
                self.finish()
                return
            batch = first
            while batch is not None:
                if batch or written == 0:
                    self.write(self._encode(batch, ndjson, first_in_array=written == 0))
                    written += len(batch)
                    await self.flush()
                    self.application.settings["metrics"].persons_streamed.inc(len(batch))
                batch = await anext(batches, None)
        except StreamClosedError:
            log.info("%s %s request_id=%s: client closed the connection after %d documents",
                     self.request.method, self.request.path, self.request_id, written)
            return
        except errors.REDIS_UNAVAILABLE as error:
            self.application.settings["metrics"].count_redis_error(error)
            log.warning("%s %s request_id=%s: Redis failed after %d documents, closing the stream: %r",
                        self.request.method, self.request.path, self.request_id, written, error)
            self.request.connection.close()
            return
        self.finish(b"" if ndjson else b"]")

    @staticmethod
    def _encode(batch: list[bytes], ndjson: bool, first_in_array: bool) -> bytes:
        if not batch:
            return b""
        if ndjson:
            return b"\n".join(batch) + b"\n"
        joined = b",".join(batch)
        return joined if first_in_array else b"," + joined

    async def _person_batches(self) -> AsyncIterator[list[bytes]]:
        after_seq = 0
        more = True
        while more:
            after_seq, more, docs = await self.store.read_batch(after_seq, self.service_settings.stream_batch_size)
            yield docs

    async def stream_all(self) -> None:
        await self.stream_documents(self._person_batches())

    async def _history_batches(self, person_id: str) -> AsyncIterator[list[bytes]]:
        size = self.service_settings.stream_batch_size
        first = 1
        while True:
            current, docs = await self.store.read_history(person_id, first, size)
            yield docs
            first += size
            if first > current or not docs:
                return

    async def stream_history(self, person_id: str) -> None:
        await self.stream_documents(self._history_batches(person_id))
