"""The REST index (``/?rest_route=/``) of the in-memory WordPress, as WordPress lists it."""

from __future__ import annotations

from typing import Any

from wp_bridge.models import BRIDGE_NAMESPACE

_CORE = {
    "wp/v2": ["/wp/v2/users", "/wp/v2/users/(?P<id>[\\d]+)", "/wp/v2/users/me"],
}
_BRIDGE = ["/groups/(?P<id>\\d+)", "/bookings", "/emails", "/login"]
_BUDDYPRESS = ["/groups", "/groups/(?P<id>[\\d]+)", "/groups/(?P<group_id>[\\d]+)/members"]


def rest_index_json(
    site_url: str, *, bridge_installed: bool, buddypress_version: str | None
) -> dict[str, Any]:
    """Return the index a site with these plugins serves (routes without their arguments)."""
    served = dict(_CORE)
    if bridge_installed:
        served[BRIDGE_NAMESPACE] = [f"/{BRIDGE_NAMESPACE}{route}" for route in _BRIDGE]
    if buddypress_version is not None:
        namespace = f"buddypress/{buddypress_version}"
        served[namespace] = [f"/{namespace}{route}" for route in _BUDDYPRESS]
    routes: dict[str, Any] = {"/": {"namespace": "", "methods": ["GET"]}}
    for namespace, paths in served.items():
        routes[f"/{namespace}"] = {"namespace": namespace, "methods": ["GET"]}
        for path in paths:
            routes[path] = {"namespace": namespace, "methods": ["GET", "POST"]}
    return {
        "name": "Therapy sandbox",
        "url": site_url,
        "home": site_url,
        "namespaces": list(served),
        "authentication": {"application-passwords": {"endpoints": {}}},
        "routes": routes,
    }
