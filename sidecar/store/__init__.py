"""The sidecar's own database: connections, every SQL statement, the one transition function, and the read-only credentials reader."""
