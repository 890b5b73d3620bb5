//! Lua scripts: each runs atomically on the server in one round trip. Numbers that may exceed
//! Lua's integer formatting (microsecond times) are formatted with `%.0f`.

use std::sync::LazyLock;

use fred::types::scripts::Script;

/// A history page. KEYS: zset, meta hash, info, gen, built pages. ARGV: offset, limit, random
/// gen, built pages max. Returns {1, page as one JSON array of stored rows} or {2, the same
/// built from rows stored as the edge's encoding} on a hit, {0, generation} on a miss.
///
/// A row is either JSON (`{...}`, a cache row) or `E` followed by the edge's encoding of the
/// row; a page is served in one layout only, so rows of both kinds (left by instances of
/// different versions) make a miss, and the refill stores one kind. A page assembled from the
/// index is kept in the built-pages hash (prefixed `E` when encoded), so the next read of it
/// is one HGET; every change to the history deletes that hash with the index.
const HISTORY_PAGE: &str = r"
local info = redis.call('GET', KEYS[3])
local start = tonumber(ARGV[1])
local stop = start + tonumber(ARGV[2]) - 1
if info then
  local field = ARGV[1] .. ':' .. ARGV[2]
  local built = redis.call('HGET', KEYS[5], field)
  if built then
    if string.byte(built, 1) == 69 then return {2, string.sub(built, 2)} end
    return {1, built}
  end
  local n = redis.call('ZCARD', KEYS[1])
  if info == 'complete' or stop < n then
    local ids = redis.call('ZREVRANGE', KEYS[1], start, stop)
    local rows = {}
    local encoded = 0
    if #ids > 0 then
      rows = redis.call('HMGET', KEYS[2], unpack(ids))
      for i = 1, #rows do
        if not rows[i] then return {0, redis.call('GET', KEYS[4]) or ARGV[3]} end
        if string.byte(rows[i], 1) == 69 then
          rows[i] = string.sub(rows[i], 2)
          encoded = encoded + 1
        end
      end
    end
    if encoded > 0 and encoded < #rows then
      return {0, redis.call('GET', KEYS[4]) or ARGV[3]}
    end
    local page = '[' .. table.concat(rows, ',') .. ']'
    local kind = 1
    local stored = page
    if encoded > 0 then
      kind = 2
      stored = 'E' .. page
    end
    if redis.call('HLEN', KEYS[5]) >= tonumber(ARGV[4]) then redis.call('DEL', KEYS[5]) end
    redis.call('HSET', KEYS[5], field, stored)
    local ttl = redis.call('PTTL', KEYS[3])
    if ttl > 0 then redis.call('PEXPIRE', KEYS[5], ttl) end
    return {kind, page}
  end
end
local gen = redis.call('GET', KEYS[4])
if not gen then
  gen = ARGV[3]
  redis.call('SET', KEYS[4], gen, 'EX', 86400)
end
return {0, gen}
";

/// Replaces the cached history if the generation still matches.
/// KEYS: zset, meta, info, gen, built pages. ARGV: token, ttl, complete|partial, then
/// (score, id, row)*, each row JSON or `E` and the edge's encoding.
const FILL_HISTORY: &str = r"
if redis.call('GET', KEYS[4]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[5])
for i = 4, #ARGV, 3 do
  redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('HSET', KEYS[2], ARGV[i + 1], ARGV[i + 2])
end
redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
";

/// A detail page and the generation. KEYS: detail, gen. ARGV: random gen.
/// Returns {detail json or false, generation}.
const DETAIL: &str = r"
local gen = redis.call('GET', KEYS[2])
if not gen then
  gen = ARGV[1]
  redis.call('SET', KEYS[2], gen, 'EX', 86400)
end
return {redis.call('GET', KEYS[1]), gen}
";

/// Stores a value if the generation still matches. KEYS: key, gen. ARGV: token, value, ttl.
const STORE_IF_CURRENT: &str = r"
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
";

/// GCRA (see `crate::gcra`), on the server's clock. KEYS: tat. ARGV: limit, window µs.
/// Returns {allowed, remaining, retry after µs}.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local interval = math.floor(window / limit)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local used = new_tat - now
if used > window then
  return {0, 0, string.format('%.0f', used - window)}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil(used / 1000) + 1)
return {1, math.floor((window - used) / interval), 0}
";

/// Takes a turn lease unless the user holds `cap` live ones, on the server's clock.
/// KEYS: the user's lease set. ARGV: stream id, cap, lease ms.
/// Returns 1 when taken, 0 when the user is at the cap.
const ACQUIRE_LEASE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return 1
";

/// Removes and returns up to `max` expired leases, so each goes to exactly one caller.
/// KEYS: the global lease index. ARGV: max.
const CLAIM_EXPIRED: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, id in ipairs(ids) do redis.call('ZREM', KEYS[1], id) end
return ids
";

/// Whether a lease is live. KEYS: the user's lease set. ARGV: stream id. Returns 1 or 0.
const LEASE_IS_LIVE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if expiry and tonumber(expiry) > now then return 1 end
return 0
";

pub(crate) static ACQUIRE_LEASE_SCRIPT: LazyLock<Script> =
    LazyLock::new(|| Script::from_lua(ACQUIRE_LEASE));
pub(crate) static CLAIM_EXPIRED_SCRIPT: LazyLock<Script> =
    LazyLock::new(|| Script::from_lua(CLAIM_EXPIRED));
pub(crate) static LEASE_IS_LIVE_SCRIPT: LazyLock<Script> =
    LazyLock::new(|| Script::from_lua(LEASE_IS_LIVE));
pub(crate) static HISTORY_PAGE_SCRIPT: LazyLock<Script> =
    LazyLock::new(|| Script::from_lua(HISTORY_PAGE));
pub(crate) static FILL_HISTORY_SCRIPT: LazyLock<Script> =
    LazyLock::new(|| Script::from_lua(FILL_HISTORY));
pub(crate) static DETAIL_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::from_lua(DETAIL));
pub(crate) static STORE_IF_CURRENT_SCRIPT: LazyLock<Script> =
    LazyLock::new(|| Script::from_lua(STORE_IF_CURRENT));
pub(crate) static GCRA_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::from_lua(GCRA));
