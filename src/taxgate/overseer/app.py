"""The witness over HTTP: ``POST /add-checkpoint`` as C2SP tlog-witness defines it."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from taxgate.audit.witness import MAX_REQUEST_BYTES
from taxgate.overseer.witness import WitnessHome


def create_witness_app(home: WitnessHome) -> FastAPI:
    """The witness service over ``home`` (no other routes; no authentication beyond the
    log's signature on the checkpoint, as the protocol says)."""
    app = FastAPI(title="taxgate witness", openapi_url=None, docs_url=None, redoc_url=None)

    @app.post("/add-checkpoint")
    async def add_checkpoint(request: Request) -> Response:
        data = await request.body()
        if len(data) > MAX_REQUEST_BYTES:
            return PlainTextResponse("the request is too large\n", status_code=413)
        try:
            body = data.decode("utf-8")
        except UnicodeDecodeError:
            return PlainTextResponse("the request is not UTF-8\n", status_code=400)
        answer = await run_in_threadpool(home.add, body)
        return Response(answer.body, status_code=answer.status, media_type=answer.content_type)

    @app.get("/")
    def about() -> PlainTextResponse:
        return PlainTextResponse(home.verifier_key + "\n")

    return app
