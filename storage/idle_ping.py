"""Ping a PostgreSQL connection before reuse only when it sat idle in the pool for a while.

SQLAlchemy's `pool_pre_ping` pings every checkout, and its asyncpg dialect pings inside a
transaction of its own (for pgbouncer), so each ping is three round trips (BEGIN, `;`,
ROLLBACK): on a chat step of a dozen statements that is a fifth of its round trips, measured
by the benchmark. A connection handed back a moment ago is alive unless the server restarted
in that moment; one that waited longer is pinged as before, and a dead one is swapped for a
new one without anyone noticing (`DisconnectionError` makes the pool retry the checkout).

The rare step that meets a server restarted within `PING_AFTER_IDLE` of its connection's last
use fails as any step does during an outage (`handlers.outage`: a short answer, nothing kept),
and the pool drops its other connections at once."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine

#: Seconds a connection may sit in the pool and be reused without a ping.
PING_AFTER_IDLE = 2.0
_IDLE_SINCE = "idle_since"


def ping_idle_connections(engine: AsyncEngine) -> None:
    """Ping on checkout the connections idle for longer than `PING_AFTER_IDLE` (use instead of
    `pool_pre_ping`)."""
    dialect = engine.dialect

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE:
            return  # new, or back a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:  # whatever the driver raises, the connection is not usable
            raise DisconnectionError(str(error)) from error

    event.listen(engine.sync_engine, "checkin", checked_in)
    event.listen(engine.sync_engine, "checkout", checked_out)
