"""What the API and the web pages share over HTTP: who the caller is (:mod:`.auth`), the
role of every route (:mod:`.routing`, :mod:`.common`), the one error shape
(:mod:`.errors`) and the limits (:mod:`.limits`). Neither front door imports the other;
:mod:`taxgate.server` puts them together.
"""
