-- Shared by every jq script (prepended after the key prefixes from keys.py).

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function fmt(n)
  return string.format('%.0f', n)
end

-- Move a job between state indexes (all types, and its own type).
local function move_state(id, jtype, old, new, now)
  if old and old ~= '' and old ~= new then
    redis.call('ZREM', K_STATE .. old, id)
    redis.call('ZREM', K_STATE .. old .. ':' .. jtype, id)
  end
  redis.call('ZADD', K_STATE .. new, now, id)
  redis.call('ZADD', K_STATE .. new .. ':' .. jtype, now, id)
end

local function drop_state(id, jtype, old)
  redis.call('ZREM', K_STATE .. old, id)
  redis.call('ZREM', K_STATE .. old .. ':' .. jtype, id)
end

-- Ready-queue scores are doubles, exact only below 2^53. |priority| <= 10^6 (PRIORITY_LIMIT)
-- times 2^33 stays below it, and leaves 2^33 (8.6 billion) sequence numbers in each priority.
local PRIORITY_STEP = 8589934592

-- Ready queue: higher priority first, FIFO within a priority; front=true jumps the line.
local function enqueue(id, jtype, priority, front)
  local seq = 0
  if not front then seq = redis.call('INCR', K_SEQ) end
  redis.call('ZADD', K_QUEUE .. jtype, fmt(-tonumber(priority) * PRIORITY_STEP + seq), id)
end

-- A job's error history as a list. The record may have been written by someone else: anything
-- that is not a JSON list starts a fresh history rather than failing the script, which would
-- leave its job half-moved and, in reap, stop every other expired lease being taken back.
local function error_list(s)
  if not s or s == '' then return {} end
  local ok, v = pcall(cjson.decode, s)
  if ok and type(v) == 'table' and (next(v) == nil or v[1] ~= nil) then return v end
  return {}
end

local function json_or_null(s)
  if s and s ~= '' then return s end
  return 'null'
end

-- Bump the job's revision and publish one event carrying its current snapshot.
local function emit(id, event, now, extra)
  local key = K_JOB .. id
  local rev = redis.call('HINCRBY', key, 'rev', 1)
  local f = redis.call('HMGET', key, 'type', 'state', 'progress', 'attempts', 'result', 'error')
  local msg = '{"event":' .. cjson.encode(event) .. ',"id":' .. cjson.encode(id)
    .. ',"type":' .. cjson.encode(f[1]) .. ',"state":' .. cjson.encode(f[2])
    .. ',"rev":' .. rev .. ',"ts":' .. fmt(now)
    .. ',"progress":' .. json_or_null(f[3]) .. ',"attempt":' .. fmt(tonumber(f[4]) or 0)
  if f[2] == 'completed' then msg = msg .. ',"result":' .. json_or_null(f[5]) end
  if f[2] == 'failed' or event == 'retrying' or f[2] == 'aborted' then
    msg = msg .. ',"error":' .. json_or_null(f[6])
  end
  if extra then msg = msg .. ',"reason":' .. cjson.encode(extra) end
  redis.call('PUBLISH', C_EVENTS, msg .. '}')
  return rev
end

-- Delete a job's record and every index entry that names it.
local function purge(id, jtype, state)
  redis.call('DEL', K_JOB .. id, K_ARQ_JOB .. id)
  drop_state(id, jtype, state)
  redis.call('ZREM', K_QUEUE .. jtype, id)
  redis.call('ZREM', K_DELAYED, id)
  redis.call('ZREM', K_LEASES, id)
end

-- Retention: keep the newest `keep` (-1: all) and none older than `age_ms` (0: any age).
local function retain(jtype, state, keep, age_ms, now)
  local idx = K_STATE .. state .. ':' .. jtype
  local victims = {}
  if age_ms > 0 then
    victims = redis.call('ZRANGEBYSCORE', idx, '-inf', '(' .. fmt(now - age_ms), 'LIMIT', 0, 1000)
  end
  if keep >= 0 then
    local n = redis.call('ZCARD', idx) - #victims
    if n > keep then
      local extra = redis.call('ZRANGE', idx, #victims, #victims + (n - keep) - 1)
      for _, id in ipairs(extra) do victims[#victims + 1] = id end
    end
  end
  for _, id in ipairs(victims) do purge(id, jtype, state) end
  return #victims
end

-- Fail a job whose record someone else mangled, instead of failing the script half-way.
local function fail_corrupt(id, jtype, old, now, what)
  redis.call('HSET', K_JOB .. id, 'state', 'failed', 'finished', now, 'error',
    cjson.encode({type = 'CorruptJob', message = 'job record is corrupt: ' .. what}))
  redis.call('DEL', K_ARQ_JOB .. id)
  move_state(id, jtype, old, 'failed', now)
  emit(id, 'failed', now)
end
