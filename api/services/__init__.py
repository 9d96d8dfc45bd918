"""Services of the platform shell: each owns one capability and talks to chain, bureau or database."""
