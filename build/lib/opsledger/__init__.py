"""opsledger: operational intelligence warehouse for ecommerce."""

__version__ = "0.1.0"
