"""The HTTP service (FastAPI): agencies submit batches and fetch responses; officers,
reviewers and auditors work through the same routes, each seeing only what their role
allows. Build it with :func:`taxgate.api.app.create_app`.
"""

from taxgate.api.app import create_app

__all__ = ["create_app"]
