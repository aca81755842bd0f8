"""Django's Redis cache, keeping its client object instead of building one per call.

Django's RedisCacheClient.get_client() constructs a new `redis.Redis` for every cache
operation; building one fills a table of ~170 response callbacks, which measured at
about a third of the time of a page served from the cache (cProfile of
tests/bench/load.py's pages). The client is thread-safe and the connection pool under it
is the same one Django uses, so one client per pool does the same work.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class _ReusingClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._client(connection_pool=self._get_connection_pool(write))
            self._clients[index] = client
        return client


class ReusingRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusingClient

    def validate_key(self, key):
        """Django checks every key against memcached's limits (length, control
        characters) and warns; Redis has neither limit, and the check cost ~30 us of a
        ~0.5 ms kept page."""
