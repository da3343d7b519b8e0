"""Benchmarking (THGPCG 8, ULHT 8): one indicator compared across the peers the caller may read — a
system's members, a commissioner's providers, a peer group declared in the tenant file, or every
organisation the caller reads — with quartiles and the organisation's position in them."""
