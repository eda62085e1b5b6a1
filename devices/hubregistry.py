"""Which logger hub holds which stick, in Redis: several hubs share one fleet.

A hub is named by its relay address ("host:port", where pollers reach it). It writes:
- `aura:hub:where`, a hash: stick serial → "<hub> <connected_at>" for every stick it holds;
- `aura:hub:alive:<hub>`, its number of sticks, with a TTL it refreshes every few seconds. An entry
  whose hub has stopped beating counts as absent: the registry's TTL is the hub's liveness.
Two hubs claiming one serial (a stick that reconnected through a load balancer while its old
connection is still half-open on the other hub): the newest connection wins, in one Lua script, so
that no write ever replaces a newer claim. The hub that lost finds out on its next beat and drops its
connection. A hub verifies a newcomer before it claims a serial another live hub holds (devices.hub).

Pollers look up a batch of serials in one round trip; a serial nobody holds is read through the
portal's default relay (LOGGER_HUB_RELAY_HOST/PORT), which then answers "not called in".
"""

WHERE = "aura:hub:where"
HUBS = "aura:hubs"  # every hub that has ever beaten (dead ones are skipped and pruned)
ALIVE = "aura:hub:alive:{}"
ALIVE_SECONDS = 15
BATCH = 2000  # serials per Redis call: a hub of 20,000 sticks is ten short calls

# KEYS[1] = WHERE; ARGV = hub, then serial and connected_at pairs. Claims every serial whose entry
# is absent, the hub's own, or older; returns the serials a newer claim of another hub keeps.
CLAIM = """
local hub, lost = ARGV[1], {}
for i = 2, #ARGV, 2 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  local take = not current
  if current then
    local sep = string.find(current, ' ', 1, true)
    local owner, since = string.sub(current, 1, sep - 1), tonumber(string.sub(current, sep + 1))
    take = owner == hub or since <= tonumber(ARGV[i + 1])
  end
  if take then
    redis.call('HSET', KEYS[1], ARGV[i], hub .. ' ' .. ARGV[i + 1])
  else
    table.insert(lost, ARGV[i])
  end
end
return lost
"""
# KEYS[1] = WHERE; ARGV = hub, then serials: removes the entries that still name this hub.
RELEASE = """
local prefix = ARGV[1] .. ' '
for i = 2, #ARGV do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  if current and string.sub(current, 1, #prefix) == prefix then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return 0
"""


def _chunks(items, size=BATCH):
    items = list(items)
    return [items[i : i + size] for i in range(0, len(items), size)]


def _owner(entry):
    """(hub, connected_at) of a hash value, or (None, 0.0)."""
    if not entry:
        return None, 0.0
    hub, _space, at = entry.decode().partition(" ")
    return hub, float(at or 0)


# -- the hub's side (redis.asyncio) -----------------------------------------------------------------
async def claim(client, hub, sticks):
    """Claim {serial: connected_at}; returns the serials another hub holds with a newer connection."""
    lost = []
    for chunk in _chunks(sticks.items()):
        args = [hub] + [value for serial, at in chunk for value in (serial, repr(float(at)))]
        lost += [int(serial) for serial in await client.eval(CLAIM, 1, WHERE, *args)]
    return lost


async def release(client, hub, serials):
    """Forget the hub's claims on `serials` (gone); another hub's newer claim is left alone."""
    for chunk in _chunks(serials):
        await client.eval(RELEASE, 1, WHERE, hub, *chunk)


async def beat(client, hub, sticks):
    """The hub is alive for ALIVE_SECONDS more; returns the serials of `sticks` ({serial: Stick})
    that another hub now holds (to drop) and those missing from the registry (to claim again)."""
    async with client.pipeline(transaction=False) as pipe:
        pipe.set(ALIVE.format(hub), len(sticks), ex=ALIVE_SECONDS)
        pipe.sadd(HUBS, hub)
        await pipe.execute()
    superseded, missing = [], {}
    for chunk in _chunks(sticks):
        for serial, entry in zip(chunk, await client.hmget(WHERE, chunk), strict=True):
            owner, _at = _owner(entry)
            if owner is None:
                missing[serial] = sticks[serial].connected_at
            elif owner != hub:
                superseded.append(serial)
    return superseded, missing


async def republish(client, hub, sticks):
    """The hub's whole list (after a hub or Redis restart, or a write Redis missed): its claims made
    again, its stale entries removed; returns the serials it lost to a newer claim."""
    lost = await claim(client, hub, {serial: stick.connected_at for serial, stick in sticks.items()})
    stale = [
        int(serial)
        async for serial, entry in client.hscan_iter(WHERE, count=BATCH)
        if _owner(entry)[0] == hub and int(serial) not in sticks
    ]
    await release(client, hub, stale)
    return lost


async def stop(client, hub, serials):
    """A hub stopping: its claims and its heartbeat go."""
    await release(client, hub, serials)
    await client.delete(ALIVE.format(hub))


async def prune(client):
    """Remove the entries of hubs that stopped beating (a killed hub cannot remove its own)."""
    hubs = [hub.decode() for hub in await client.smembers(HUBS)]
    alive = await _alive(client, hubs)
    dead = {hub for hub in hubs if hub not in alive}
    if not dead:
        return
    by_hub = {}
    async for serial, entry in client.hscan_iter(WHERE, count=BATCH):
        owner, _at = _owner(entry)
        if owner in dead:
            by_hub.setdefault(owner, []).append(int(serial))
    for hub, serials in by_hub.items():
        await release(client, hub, serials)
    await client.srem(HUBS, *dead)


async def _alive(client, hubs):
    """{hub: sticks} of the hubs among `hubs` that beat within ALIVE_SECONDS."""
    if not hubs:
        return {}
    counts = await client.mget([ALIVE.format(hub) for hub in hubs])
    return {hub: int(count) for hub, count in zip(hubs, counts, strict=True) if count is not None}


# -- the pollers' side (redis.asyncio) --------------------------------------------------------------
async def locate(client, serials):
    """{serial: (host, port)} of the live hub holding each stick; serials nobody holds are left out."""
    owners = {}
    for chunk in _chunks(serials):
        for serial, entry in zip(chunk, await client.hmget(WHERE, chunk), strict=True):
            hub, _at = _owner(entry)
            if hub is not None:
                owners[serial] = hub
    alive = await _alive(client, sorted(set(owners.values())))
    return {serial: address(hub) for serial, hub in owners.items() if hub in alive}


def address(hub):
    host, _colon, port = hub.rpartition(":")
    return host.strip("[]"), int(port)


# -- the portal's pages (synchronous redis) ---------------------------------------------------------
def called_in_since(client, serial):
    """When `serial` connected to a live hub, or None."""
    hub, at = _owner(client.hget(WHERE, str(serial)))
    if hub is None or not client.exists(ALIVE.format(hub)):
        return None
    return at


def status(client):
    """{"up": any hub alive, "hubs": how many, "sticks": how many sticks they hold}."""
    hubs = sorted(hub.decode() for hub in client.smembers(HUBS))
    counts = client.mget([ALIVE.format(hub) for hub in hubs]) if hubs else []
    alive = [int(count) for count in counts if count is not None]
    return {"up": bool(alive), "hubs": len(alive), "sticks": sum(alive)}
