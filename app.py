from sidecar import create_app  # noqa: F401  gunicorn target: "app:create_app()"
