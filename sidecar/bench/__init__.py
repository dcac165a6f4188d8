"""`sidecar bench`: the benchmark command and its parts."""
