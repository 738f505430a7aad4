/**
 * The Lua scripts that make every write (and every read) of the Redis registry atomic. Each script
 * is one Redis command: it first removes the ephemeral nodes of expired sessions (by the server's
 * clock, `TIME`), then does its work, and appends one change-feed entry per changed node to the
 * namespace's stream in the same atomic step, and pushes the same entries (with their stream ids
 * and revisions) to the namespace's feed channel with `SPUBLISH` when it ends (at most
 * {@link PUSH_BATCH} entries per message). Scripts are registered with ioredis'
 * `defineCommand`, which sends `EVALSHA` and loads the script once when the server answers
 * `NOSCRIPT` (first use, or after a server restart).
 *
 * Key layout, all below the prefix `KEYS[1]` = `elasticjob:{namespace}:` so that every key of a
 * namespace hashes to one Redis Cluster slot:
 *
 * | key | type | content |
 * | --- | --- | --- |
 * | `d` | hash | node path → value, for every node (implicit parents included) |
 * | `c:{path}` | set | names of the direct children of `path` (`c:/` for top-level nodes) |
 * | `e` | hash | ephemeral node path → owning session id |
 * | `o:{session}` | set | paths of the ephemeral nodes of a session |
 * | `s` | sorted set | session id → deadline (server epoch ms) |
 * | `q:{path}` | string | sequential-node counter of a parent (`INCR`) |
 * | `x` | stream | change feed: one entry `n` (revision), `t` (ADDED/UPDATED/DELETED), `k` (path), `v` (value) per change |
 * | `rev` | string | revision counter (`INCR`): consecutive per entry, so a reader sees any gap |
 * | `epoch` | string | random id written once; a different value means the data was lost (server reset) |
 * | `f` | shard channel | not a key: the change feed pushed, one JSON message `[[id, revision, type, path, value], ...]` per script (`SPUBLISH`, so on a Cluster it stays within the slot's shard) |
 *
 * Scripts build key names from `KEYS[1]` (every one is in `KEYS[1]`'s hash slot thanks to the
 * `{namespace}` hash tag); `ARGV[1]` is always the change feed's approximate maximum length.
 *
 * @module
 */

/**
 * The most entries of one feed message: a script that changes more nodes (a large `remove`) sends
 * several, so that no single message approaches the server's output buffer limit of subscribers.
 */
export const PUSH_BATCH = 1_000;

/** Helpers shared by every script. */
const PRELUDE = `
local PUSH_BATCH = ${PUSH_BATCH}
local P = KEYS[1]
local D, E, S, X = P .. 'd', P .. 'e', P .. 's', P .. 'x'
local MAXLEN = ARGV[1]
local pushed = {}
local function push()
  if #pushed > 0 then
    redis.call('SPUBLISH', P .. 'f', cjson.encode(pushed))
    pushed = {}
  end
end
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function parentOf(p)
  local i = string.find(p, '/[^/]*$')
  if i == 1 then return '/' end
  return string.sub(p, 1, i - 1)
end
local function nameOf(p) return string.match(p, '[^/]*$') end
local function childPath(p, c) if p == '/' then return '/' .. c end return p .. '/' .. c end
local function emit(t, k, v)
  local n = redis.call('INCR', P .. 'rev')
  local id = redis.call('XADD', X, 'MAXLEN', '~', MAXLEN, '*', 'n', n, 't', t, 'k', k, 'v', v)
  pushed[#pushed + 1] = { id, n, t, k, v }
  if #pushed >= PUSH_BATCH then push() end
end
local function exists(p) return p == '/' or redis.call('HEXISTS', D, p) == 1 end
local function makeNode(p, v)
  redis.call('HSET', D, p, v)
  redis.call('SADD', P .. 'c:' .. parentOf(p), nameOf(p))
  emit('ADDED', p, v)
end
local function makeParents(p)
  local parent = parentOf(p)
  if not exists(parent) then
    makeParents(parent)
    makeNode(parent, '')
  end
end
local function removeTree(p)
  for _, c in ipairs(redis.call('SMEMBERS', P .. 'c:' .. p)) do removeTree(childPath(p, c)) end
  redis.call('DEL', P .. 'c:' .. p)
  if p == '/' then return end
  local v = redis.call('HGET', D, p)
  redis.call('HDEL', D, p)
  redis.call('SREM', P .. 'c:' .. parentOf(p), nameOf(p))
  local owner = redis.call('HGET', E, p)
  if owner then
    redis.call('HDEL', E, p)
    redis.call('SREM', P .. 'o:' .. owner, p)
  end
  emit('DELETED', p, v or '')
end
local function reap(t)
  for _, sid in ipairs(redis.call('ZRANGEBYSCORE', S, '-inf', '(' .. t)) do
    for _, p in ipairs(redis.call('SMEMBERS', P .. 'o:' .. sid)) do
      if exists(p) then removeTree(p) end
    end
    redis.call('DEL', P .. 'o:' .. sid)
    redis.call('ZREM', S, sid)
  end
end
local function alive(sid)
  return sid ~= '' and redis.call('ZSCORE', S, sid) ~= false
end
local function own(sid, p)
  redis.call('HSET', E, p, sid)
  redis.call('SADD', P .. 'o:' .. sid, p)
end
local function fail(code) return redis.error_reply('EJ ' .. code) end
local T = now()
reap(T)
`;

/** A script: its ioredis command name and full Lua source. */
export interface RegistryScript {
  /** Name of the command ioredis defines for it. */
  readonly name: string;
  /** Full source (prelude + body). */
  readonly lua: string;
}

/**
 * The body runs as a function so that every way it returns (a result or an `EJ` error reply) goes
 * through the final push of its entries. A Lua runtime error skips the push; the entries are in the
 * stream, and readers fetch them when they notice the gap (see `change-feed.ts`).
 */
function script(name: string, body: string): RegistryScript {
  return {
    name,
    lua: `${PRELUDE}local function main()\n${body}\nend\nlocal result = main()\npush()\nreturn result\n`,
  };
}

/**
 * `persist(path, value)`: insert-or-update a persistent node, creating missing parents.
 * ARGV: maxlen, path, value.
 */
export const PERSIST = script(
  'ejPersist',
  `
local p, v = ARGV[2], ARGV[3]
if exists(p) then
  redis.call('HSET', D, p, v)
  emit('UPDATED', p, v)
else
  makeParents(p)
  makeNode(p, v)
end
return 1
`,
);

/**
 * `getRegistryCenterTime(path)`: writes the scratch node (as `persist(path, '')`) and returns the
 * server's `TIME` in epoch ms. ARGV: maxlen, path.
 */
export const TOUCH_TIME = script(
  'ejTouchTime',
  `
local p = ARGV[2]
if exists(p) then
  redis.call('HSET', D, p, '')
  emit('UPDATED', p, '')
else
  makeParents(p)
  makeNode(p, '')
end
return tostring(T)
`,
);

/** `update(path, value)`: `EJ NO_NODE` when absent. ARGV: maxlen, path, value. */
export const UPDATE = script(
  'ejUpdate',
  `
local p, v = ARGV[2], ARGV[3]
if p == '/' or not exists(p) then return fail('NO_NODE') end
redis.call('HSET', D, p, v)
emit('UPDATED', p, v)
return 1
`,
);

/**
 * `persistEphemeral(path, value)`: replaces the node (and its subtree) by one owned by the session;
 * `EJ SESSION_EXPIRED` when the session is gone. ARGV: maxlen, session id, path, value.
 */
export const PERSIST_EPHEMERAL = script(
  'ejPersistEphemeral',
  `
local sid, p, v = ARGV[2], ARGV[3], ARGV[4]
if not alive(sid) then return fail('SESSION_EXPIRED') end
if exists(p) then removeTree(p) end
makeParents(p)
makeNode(p, v)
own(sid, p)
return 1
`,
);

/**
 * `persistSequential` / `persistEphemeralSequential`: the path prefix plus a 10-digit suffix from the
 * parent's `INCR` counter (starting at 0); owned by the session when a session id is given.
 * ARGV: maxlen, session id or '', prefix, value. Returns the created path.
 */
export const PERSIST_SEQUENTIAL = script(
  'ejPersistSequential',
  `
local sid, prefix, v = ARGV[2], ARGV[3], ARGV[4]
if sid ~= '' and not alive(sid) then return fail('SESSION_EXPIRED') end
makeParents(prefix)
local counter = P .. 'q:' .. parentOf(prefix)
local p
repeat
  p = prefix .. string.format('%010d', redis.call('INCR', counter) - 1)
until not exists(p)
makeNode(p, v)
if sid ~= '' then own(sid, p) end
return p
`,
);

/** `remove(path)`: the node and its subtree; absent is fine. ARGV: maxlen, path. */
export const REMOVE = script(
  'ejRemove',
  `
local p = ARGV[2]
if p ~= '/' and exists(p) then removeTree(p) end
return 1
`,
);

/**
 * Reads, after expired sessions were removed. ARGV: maxlen, operation (`get`, `exists`,
 * `children`, `count`), path.
 */
export const READ = script(
  'ejRead',
  `
local op, p = ARGV[2], ARGV[3]
if op == 'get' then
  if p == '/' then return '' end
  return redis.call('HGET', D, p)
elseif op == 'exists' then
  if exists(p) then return 1 end
  return 0
elseif op == 'children' then
  return redis.call('SMEMBERS', P .. 'c:' .. p)
end
return redis.call('SCARD', P .. 'c:' .. p)
`,
);

/**
 * `executeInTransaction`: validates every operation against the state the earlier ones leave
 * (nothing written yet), then applies them all. A failure returns `EJ TX {index} {code}`.
 * ARGV: maxlen, then per operation: type, path, '1' when a value is given else '0', value.
 *
 * The validation keeps, per path, the value and operation index of its latest create/update
 * (`staged`, `stagedAt`) and the index of its latest delete (`goneAt`). A path's value is the
 * staged one when it was written after every delete of the path or of an ancestor, absent when such
 * a delete came later, and the server's otherwise: each lookup walks the path's ancestors (time
 * linear in its depth), where clearing the staged writes below each deleted path scanned them all
 * and a 1,000-operation transaction (the kernel coalesces that many) blocked the server for
 * milliseconds per delete.
 */
export const TRANSACTION = script(
  'ejTransaction',
  `
local staged, stagedAt, goneAt, anyGone = {}, {}, {}, false
local function current(p)
  local deletedAt = nil
  if anyGone then
    local a = p
    while true do
      local at = goneAt[a]
      if at ~= nil and (deletedAt == nil or at > deletedAt) then deletedAt = at end
      if a == '/' then break end
      a = parentOf(a)
    end
  end
  local writtenAt = stagedAt[p]
  if writtenAt ~= nil and (deletedAt == nil or writtenAt > deletedAt) then return staged[p] end
  if deletedAt ~= nil then return false end
  if p == '/' then return '' end
  return redis.call('HGET', D, p)
end
local count = (#ARGV - 1) / 4
for i = 0, count - 1 do
  local b = 2 + i * 4
  local op, p, hasValue, v = ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3]
  local cur = current(p)
  local function txFail(code) return fail('TX ' .. i .. ' ' .. code) end
  if op == 'check' then
    if cur == false then return txFail('NO_NODE') end
    if hasValue == '1' and cur ~= v then return txFail('VALUE_MISMATCH') end
  elseif op == 'create' then
    if cur ~= false then return txFail('NODE_EXISTS') end
    if current(parentOf(p)) == false then return txFail('NO_NODE') end
    staged[p], stagedAt[p] = v, i
  elseif op == 'update' then
    if cur == false or p == '/' then return txFail('NO_NODE') end
    staged[p], stagedAt[p] = v, i
  else
    if cur == false or p == '/' then return txFail('NO_NODE') end
    goneAt[p], anyGone = i, true
  end
end
for i = 0, count - 1 do
  local b = 2 + i * 4
  local op, p, v = ARGV[b], ARGV[b + 1], ARGV[b + 3]
  if op == 'create' then
    makeNode(p, v)
  elseif op == 'update' then
    redis.call('HSET', D, p, v)
    emit('UPDATED', p, v)
  elseif op == 'delete' then
    removeTree(p)
  end
end
return 1
`,
);

/**
 * Opens a session with deadline `TIME + timeout` and writes the namespace epoch if absent. The
 * session id is random (a counter would repeat after a server lost its data, and a client could
 * then heartbeat someone else's session). ARGV: maxlen, timeout ms, epoch candidate, session id.
 * Returns `[session id, epoch, server time ms]`.
 */
export const OPEN_SESSION = script(
  'ejOpenSession',
  `
local sid = ARGV[4]
redis.call('ZADD', S, 'NX', T + tonumber(ARGV[2]), sid)
redis.call('SET', P .. 'epoch', ARGV[3], 'NX')
return { sid, redis.call('GET', P .. 'epoch'), tostring(T) }
`,
);

/**
 * Extends a live session's deadline to `TIME + timeout`, unless the heartbeat reached the server
 * after its validity bound `notAfter` (server ms): a heartbeat delayed in a network or a frozen
 * server must not extend a session its client may already have reported `LOST`. A session whose
 * deadline passed was removed by the prelude and is never revived.
 * ARGV: maxlen, session id, timeout ms, notAfter. Returns `[status, server time ms, revision]`:
 * status 1 = extended, 0 = the session is gone, -1 = too late (not extended; the session is
 * unchanged); revision is the change feed's latest (the feed checks it has seen that far).
 */
export const HEARTBEAT = script(
  'ejHeartbeat',
  `
local sid = ARGV[2]
local rev = redis.call('GET', P .. 'rev') or '0'
if not alive(sid) then return { 0, tostring(T), rev } end
if T > tonumber(ARGV[4]) then return { -1, tostring(T), rev } end
redis.call('ZADD', S, 'XX', T + tonumber(ARGV[3]), sid)
return { 1, tostring(T), rev }
`,
);

/** Ends a session now: removes its ephemeral nodes and its entry. ARGV: maxlen, session id. */
export const CLOSE_SESSION = script(
  'ejCloseSession',
  `
local sid = ARGV[2]
for _, p in ipairs(redis.call('SMEMBERS', P .. 'o:' .. sid)) do
  if exists(p) then removeTree(p) end
end
redis.call('DEL', P .. 'o:' .. sid)
redis.call('ZREM', S, sid)
return 1
`,
);

/**
 * A consistent snapshot of a subtree and the change-feed position it corresponds to.
 * ARGV: maxlen, path (`''` for no subtree: the position only). Returns
 * `[last stream id, revision, epoch or '', path1, value1, path2, value2, ...]`, parents before
 * children.
 */
export const SNAPSHOT = script(
  'ejSnapshot',
  `
local last = redis.call('XREVRANGE', X, '+', '-', 'COUNT', 1)
local id = '0-0'
if last[1] then id = last[1][1] end
local result = { id, redis.call('GET', P .. 'rev') or '0', redis.call('GET', P .. 'epoch') or '' }
local queue, head = {}, 1
local root = ARGV[2]
if root == '/' then
  table.insert(queue, '/')
elseif root ~= '' and exists(root) then
  table.insert(queue, root)
end
while head <= #queue do
  local p = queue[head]
  head = head + 1
  if p ~= '/' then
    table.insert(result, p)
    table.insert(result, redis.call('HGET', D, p))
  end
  for _, c in ipairs(redis.call('SMEMBERS', P .. 'c:' .. p)) do table.insert(queue, childPath(p, c)) end
end
return result
`,
);

/** Every script, for registration. */
export const ALL_SCRIPTS: readonly RegistryScript[] = [
  PERSIST,
  TOUCH_TIME,
  UPDATE,
  PERSIST_EPHEMERAL,
  PERSIST_SEQUENTIAL,
  REMOVE,
  READ,
  TRANSACTION,
  OPEN_SESSION,
  HEARTBEAT,
  CLOSE_SESSION,
  SNAPSHOT,
];
