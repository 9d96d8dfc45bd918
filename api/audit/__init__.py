"""The auditor's composition layer: bundles, pack/product/IoT/chain audits, the database diff,
reports and attestations. See README.md."""
