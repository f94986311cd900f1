"""The HTTP API (FastAPI routes under ``/v1``): agencies submit batches and fetch responses;
officers, reviewers and auditors work through the same routes, each seeing only what their
role allows. The routes call :mod:`taxgate.services`; :func:`taxgate.server.create_app`
builds the app.
"""
