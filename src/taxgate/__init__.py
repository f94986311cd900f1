"""taxgate: the gate between taxpayer records and requests for them."""

__version__ = "0.1.0"
