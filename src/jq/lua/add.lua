-- Add jobs. ARGV: count, then per job: id, type, data, arq payload, priority, max attempts,
-- backoff seconds, timeout seconds ('' for none), run-at ms (0: none), delay ms (0: none).
-- An empty id gets the next number. Returns the ids; or, if a given id already exists,
-- {'', that id} and nothing is written.
local now = now_ms()
local count = tonumber(ARGV[1])
for i = 0, count - 1 do
  local id = ARGV[2 + i * 10]
  if id ~= '' and redis.call('EXISTS', K_JOB .. id) == 1 then return {'', id} end
end
local added = {}
local woken = {}
for i = 0, count - 1 do
  local b = 1 + i * 10
  local id, jtype = ARGV[b + 1], ARGV[b + 2]
  if id == '' then
    repeat id = tostring(redis.call('INCR', K_IDS)) until redis.call('EXISTS', K_JOB .. id) == 0
  end
  local key = K_JOB .. id
  local run_at = tonumber(ARGV[b + 9])
  local delay = tonumber(ARGV[b + 10])
  if delay > 0 then run_at = now + delay end
  local state = 'waiting'
  if run_at > now then state = 'delayed' end
  redis.call('HSET', key, 'id', id, 'type', jtype, 'state', state, 'data', ARGV[b + 3],
    'priority', ARGV[b + 5], 'attempts', 0, 'max_attempts', ARGV[b + 6],
    'backoff', ARGV[b + 7], 'timeout', ARGV[b + 8], 'created', now, 'rev', 0,
    'progress', '{"percentage":0}')
  redis.call('SET', K_ARQ_JOB .. id, ARGV[b + 4])
  redis.call('SADD', K_TYPES, jtype)
  if state == 'delayed' then
    redis.call('HSET', key, 'run_at', fmt(run_at))
    redis.call('ZADD', K_DELAYED, fmt(run_at), id)
  else
    enqueue(id, jtype, ARGV[b + 5], false)
    woken[jtype] = true
  end
  move_state(id, jtype, nil, state, now)
  emit(id, 'added', now)
  added[#added + 1] = id
end
for jtype, _ in pairs(woken) do redis.call('PUBLISH', C_WAKE, jtype) end
return added
