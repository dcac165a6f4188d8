"""A do-nothing Flask app for ``sidecar bench``: gunicorn's and Flask's own cost, without the sidecar.

Run with the shipped config: ``gunicorn -c python:sidecar.web.gunicorn_conf sidecar.bench.noop:app``.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, request

app = Flask(__name__)


@app.post("/paytabs/ipn")
def ipn() -> Response:
    """Answer an IPN as the sidecar does, without verifying, logging or queueing anything."""
    request.get_data(cache=False)
    return jsonify({"received": True, "outcome": "noop"})


@app.get("/healthz")
def healthz() -> Response:
    """Answer 200 (the benchmark waits for it)."""
    return jsonify({"status": "alive"})
