-- A worker claims ready jobs. ARGV: worker id, lease ms, then pairs of (type, free slots).
-- First promotes delayed jobs whose time has come. Returns {next delayed run-at ms or -1,
-- then per claimed job: id, type, arq payload, attempts, max attempts, backoff, timeout, token}.
local now = now_ms()
local worker, lease = ARGV[1], tonumber(ARGV[2])

local due = redis.call('ZRANGEBYSCORE', K_DELAYED, '-inf', now, 'LIMIT', 0, 1000)
for _, id in ipairs(due) do
  redis.call('ZREM', K_DELAYED, id)
  local f = redis.call('HMGET', K_JOB .. id, 'type', 'state', 'priority')
  if f[2] == 'delayed' then
    redis.call('HSET', K_JOB .. id, 'state', 'waiting')
    move_state(id, f[1], 'delayed', 'waiting', now)
    enqueue(id, f[1], f[3], false)
    emit(id, 'waiting', now)
    redis.call('PUBLISH', C_WAKE, f[1])
  end
end

local out = {}
local nxt = redis.call('ZRANGE', K_DELAYED, 0, 0, 'WITHSCORES')
if nxt[2] then out[1] = nxt[2] else out[1] = '-1' end

for i = 3, #ARGV, 2 do
  local jtype, slots = ARGV[i], tonumber(ARGV[i + 1])
  local held = redis.call('GET', K_HOLD .. jtype)
  if held and held ~= '0' and tonumber(held) <= now then
    redis.call('DEL', K_HOLD .. jtype)
    held = nil
  end
  if not held and slots > 0 then
    local popped = redis.call('ZPOPMIN', K_QUEUE .. jtype, slots)
    for j = 1, #popped, 2 do
      local id = popped[j]
      local key = K_JOB .. id
      local f = redis.call('HMGET', key, 'state', 'max_attempts', 'backoff', 'timeout', 'attempts')
      -- Numbers someone else mangled: the field is reset (so the record stays readable) and
      -- the job fails, naming it.
      local bad = nil
      if not tonumber(f[2] or '') then bad = {'max_attempts', f[2], '1'}
      elseif f[3] and f[3] ~= '' and not tonumber(f[3]) then bad = {'backoff', f[3], '0'}
      elseif f[4] and f[4] ~= '' and not tonumber(f[4]) then bad = {'timeout', f[4], ''}
      elseif not string.match(f[5] or '', '^%d+$') then bad = {'attempts', f[5], '0'}
      end
      if f[1] == 'waiting' and bad then
        redis.call('HSET', key, bad[1], bad[3])
        fail_corrupt(id, jtype, 'waiting', now,
          bad[1] .. ' was ' .. cjson.encode(bad[2] or '') .. ', not a number')
      elseif f[1] == 'waiting' then
        local attempts = redis.call('HINCRBY', key, 'attempts', 1)
        local token = worker .. '/' .. attempts
        redis.call('HSET', key, 'state', 'active', 'started', now, 'worker', worker, 'token', token)
        redis.call('ZADD', K_LEASES, now + lease, id)
        move_state(id, jtype, 'waiting', 'active', now)
        emit(id, 'active', now)
        local payload = redis.call('GET', K_ARQ_JOB .. id)
        -- jq writes payloads as ASCII JSON. Anything else was planted, and might not even
        -- decode as UTF-8 in the worker's client (failing the whole claim): hand over nothing,
        -- so that this one job fails as corrupt.
        if not payload or string.find(payload, '[\128-\255]') then payload = '' end
        for _, v in ipairs({id, jtype, payload, attempts, f[2], f[3], f[4] or '', token}) do
          out[#out + 1] = v
        end
      end
    end
  end
end
return out
