"""Pure risk core: credit schema, scoring models, grading, bad rates and filtering.

Nothing here touches the chain, the network or a database (see the import contracts in
pyproject.toml)."""
