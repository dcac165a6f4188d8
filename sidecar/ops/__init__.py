"""What operators see and do: actions on intents, audit, health, readiness and metrics."""
