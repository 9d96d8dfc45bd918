"""The orchestrator: the platform's API for financiers, investors, the exchange and auditors,
and the asset-pack pipeline it runs (submit, credit check, score, grade, filter, commit)."""
