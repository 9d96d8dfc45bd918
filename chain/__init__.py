"""Chain adapter: contract artifacts, compilation, accounts, sending, Merkle trees, events.

Imports web3 and the eth-* packages only; never fastapi, sqlmodel or scoring.
"""
