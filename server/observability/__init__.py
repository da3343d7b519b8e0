"""Operations: the request id, structured logs, Prometheus metrics and optional tracing (deploy/README.md)."""
