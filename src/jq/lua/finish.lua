-- A worker ends an attempt. ARGV: id, lease token, outcome (completed|failed|retry|aborted|
-- requeue), result or error JSON, retry delay ms, keep count (-1: all), keep age ms (0: any),
-- final progress JSON ('' to leave it). Returns 0 when the token no longer matches: the job
-- was taken over after a lost lease, and this late outcome is discarded.
local id, outcome = ARGV[1], ARGV[3]
local key = K_JOB .. id
local f = redis.call('HMGET', key, 'token', 'type', 'state', 'priority', 'errors', 'purge')
if f[1] ~= ARGV[2] then return 0 end
local jtype, old = f[2], f[3]
local now = now_ms()
redis.call('ZREM', K_LEASES, id)
redis.call('HDEL', key, 'token', 'pause', 'abort')
if ARGV[8] ~= '' then redis.call('HSET', key, 'progress', ARGV[8]) end

local function push_error()
  local errors = error_list(f[5])
  errors[#errors + 1] = cjson.decode(ARGV[4])
  redis.call('HSET', key, 'error', ARGV[4], 'errors', cjson.encode(errors))
end

local function finish(state)
  redis.call('HSET', key, 'state', state, 'finished', now)
  redis.call('HDEL', key, 'paused_from')
  redis.call('DEL', K_ARQ_JOB .. id)
  move_state(id, jtype, old, state, now)
  local minute = math.floor(now / 60000)
  redis.call('INCR', K_DONE .. jtype .. ':' .. minute)
  redis.call('EXPIRE', K_DONE .. jtype .. ':' .. minute, 7200)
end

if outcome == 'completed' then
  redis.call('HSET', key, 'result', ARGV[4])
  finish('completed')
  emit(id, 'completed', now)
  retain(jtype, 'completed', tonumber(ARGV[6]), tonumber(ARGV[7]), now)
elseif outcome == 'failed' then
  push_error()
  finish('failed')
  emit(id, 'failed', now)
  retain(jtype, 'failed', tonumber(ARGV[6]), tonumber(ARGV[7]), now)
elseif outcome == 'retry' then
  push_error()
  local run_at = now + tonumber(ARGV[5])
  redis.call('HSET', key, 'state', 'delayed', 'run_at', fmt(run_at))
  redis.call('ZADD', K_DELAYED, fmt(run_at), id)
  move_state(id, jtype, old, 'delayed', now)
  emit(id, 'retrying', now)
elseif outcome == 'aborted' then
  redis.call('HSET', key, 'error', ARGV[4])
  finish('aborted')
  emit(id, 'aborted', now)
  if f[6] == '1' then purge(id, jtype, 'aborted') end
elseif outcome == 'requeue' and old == 'paused' then
  -- Handed back while paused: it stays paused, and queues again on resume.
  redis.call('HINCRBY', key, 'attempts', -1)
  redis.call('HSET', key, 'paused_from', 'waiting')
  emit(id, 'requeued', now, ARGV[4])
elseif outcome == 'requeue' then
  redis.call('HINCRBY', key, 'attempts', -1)
  redis.call('HSET', key, 'state', 'waiting')
  move_state(id, jtype, old, 'waiting', now)
  enqueue(id, jtype, f[4], true)
  emit(id, 'requeued', now, ARGV[4])
  redis.call('PUBLISH', C_WAKE, jtype)
end
return 1
