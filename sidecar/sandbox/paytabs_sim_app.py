"""The HTTP face of the PayTabs simulator: PayTabs' routes plus ``/_sim/*`` controls."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request

if TYPE_CHECKING:
    from .paytabs_sim import PayTabsSimulator


def _json(payload: Any, status: int = 200) -> Response:
    # Not jsonify: Flask sorts keys, PayTabs does not.
    return Response(json.dumps(payload, default=str), status, mimetype="application/json")


def _html(status: int, text: str) -> Response:
    return Response(text, status, mimetype="text/html")


def _api(sim: PayTabsSimulator, path: str) -> Response:
    status, payload = sim.handle_api(
        path, request.headers.get("authorization"), request.get_data(cache=False)
    )
    if payload is None:
        return _html(status, "<html><body><h1>500 Internal Server Error</h1></body></html>")
    return _json(payload, status)


def make_app(sim: PayTabsSimulator) -> Flask:
    """Build the Flask app serving ``sim``."""
    app = Flask(__name__)
    _add_paytabs_routes(app, sim)
    _add_control_routes(app, sim)
    return app


def _add_paytabs_routes(app: Flask, sim: PayTabsSimulator) -> None:
    # The routes a real PayTabs region host has.
    @app.post("/payment/request")
    def payment_request() -> Response:
        return _api(sim, "request")

    @app.post("/payment/query")
    def payment_query() -> Response:
        return _api(sim, "query")

    @app.route("/payment/page/<token>", methods=["GET", "POST"])
    def payment_page(token: str) -> Response:
        if request.method == "GET":
            return _html(*sim.page_view(token))
        return _html(*sim.page_submit(token, request.form.to_dict()))


def _add_control_routes(app: Flask, sim: PayTabsSimulator) -> None:
    # Test controls, for a simulator running in another process.
    @app.route("/_sim/config", methods=["GET", "POST"])
    def config() -> Response:
        if request.method == "GET":
            return _json(sim.switches())
        switches = request.get_json(silent=True)
        if not isinstance(switches, dict):
            return _json({"error": "send a JSON object of switches"}, 400)
        try:
            return _json(sim.configure(**switches))
        except ValueError as e:
            return _json({"error": str(e)}, 400)

    @app.get("/_sim/ledger")
    def ledger() -> Response:
        return _json(sim.ledger())

    @app.get("/_sim/notifications")
    def notifications() -> Response:
        sent = [{**n, "body": n["body"].decode("utf-8")} for n in sim.notifications_sent()]
        return _json(sent)

    @app.post("/_sim/flush")
    def flush() -> Response:
        return _json({"released": sim.flush_notifications()})

    @app.post("/_sim/pay/<ref>")
    def pay(ref: str) -> Response:
        options = request.get_json(silent=True) or {}
        try:
            if options.get("action") == "cancel":
                return _json(sim.cancel(ref))
            return _json(sim.pay(ref, str(options.get("card", "4111111111111111"))))
        except ValueError as e:
            return _json({"error": str(e)}, 409)
