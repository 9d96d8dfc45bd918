"""The auditor's chain-side logic: event replay into the platform's state, legal pack histories,
Merkle leaf sets and bundle checks, and EIP-712 attestations. See README.md."""
