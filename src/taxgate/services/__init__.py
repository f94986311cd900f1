"""What taxgate does, once, for every front door (the command line, the API, the pages).

Each module is one service: :mod:`.batches`, :mod:`.decisions`, :mod:`.review`,
:mod:`.reaudit`, :mod:`.accounting`, :mod:`.oversight`, :mod:`.users`. Services raise
domain errors (:mod:`taxgate.errors`), never HTTP ones; the front doors map those errors
to exit codes and HTTP statuses in one place. Services never import a front door.
"""
