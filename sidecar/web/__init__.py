"""HTTP entry points: thin blueprints over the services."""
