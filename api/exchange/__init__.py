"""The mock exchange: listing verified against the chain, the book, the waterfall's payments (see README.md)."""
