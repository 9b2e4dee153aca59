-- Resume a paused job. ARGV: id. A job paused while running continues where it stopped; one
-- paused while queued goes back to its queue (or stays delayed if its time has not come).
-- Returns the state it had, or nil if no such job.
local id = ARGV[1]
local key = K_JOB .. id
local f = redis.call('HMGET', key, 'type', 'state', 'paused_from', 'run_at', 'priority', 'token')
if not f[1] then return nil end
local jtype, old = f[1], f[2]
if old ~= 'paused' then return old end
local now = now_ms()
local new = 'waiting'
if f[3] == 'active' and f[6] then
  new = 'active'
  redis.call('HDEL', key, 'pause')
  redis.call('PUBLISH', C_CONTROL, 'resume ' .. id)
elseif f[3] == 'delayed' and f[4] and tonumber(f[4]) > now then
  new = 'delayed'
  redis.call('ZADD', K_DELAYED, f[4], id)
else
  -- Queued, due, or paused while running on a worker that has since lost it: queue again.
  redis.call('HDEL', key, 'pause')
  enqueue(id, jtype, f[5], false)
  redis.call('PUBLISH', C_WAKE, jtype)
end
redis.call('HSET', key, 'state', new)
redis.call('HDEL', key, 'paused_from')
move_state(id, jtype, 'paused', new, now)
emit(id, 'resumed', now)
return old
