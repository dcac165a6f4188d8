"""The in-memory WordPress the tests, the demo and the benchmark run against.

- ``wordpress``: ``FakeWordPress``, WordPress + BuddyPress + the bridge plugin held in memory, with
  WordPress's error codes and statuses and failure injection (the sandbox serves it over HTTP).
- ``client``: ``FakeWordPressClient``, the ``wp_bridge.interface.WordPress`` implementation that
  calls a ``FakeWordPress`` directly, with the real client's retry policy.
- ``records``: its stored rows and WordPress's input rules; ``index``: its REST index.
"""

from wp_bridge.fake.client import FakeWordPressClient
from wp_bridge.fake.records import Call
from wp_bridge.fake.wordpress import FakeWordPress

__all__ = ["Call", "FakeWordPress", "FakeWordPressClient"]
