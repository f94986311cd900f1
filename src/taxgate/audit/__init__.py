"""The tamper-evident audit log, in the manner of Certificate Transparency.

Pure modules, no database (an overseer can use them alone):

* :mod:`~taxgate.audit.rfc9162` leaf and node hashing with domain separation
* :mod:`~taxgate.audit.tree` append-only Merkle tree: roots and proofs for any size
* :mod:`~taxgate.audit.compact` streaming root of a log of any length
* :mod:`~taxgate.audit.proof` inclusion and consistency proof verification
* :mod:`~taxgate.audit.checkpoint` C2SP signed-note checkpoints (Ed25519)
* :mod:`~taxgate.audit.entry` versioned, canonical entries with masked personal values

:mod:`taxgate.storage.audit_log` keeps the log in the store on top of these.
"""
