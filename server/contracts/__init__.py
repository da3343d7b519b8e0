"""Contract monitoring (issue 15): a commissioner's contracts, the provider's figures it records or
reads, the finance outturn, and contract performance notices with their lifecycle."""
