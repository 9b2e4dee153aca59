-- Pause a job. ARGV: id. A waiting or delayed job leaves its queue; a running one is flagged
-- and stops at its next progress report. Returns the state it had, or nil if no such job.
local id = ARGV[1]
local key = K_JOB .. id
local f = redis.call('HMGET', key, 'type', 'state')
if not f[1] then return nil end
local jtype, old = f[1], f[2]
if old ~= 'waiting' and old ~= 'delayed' and old ~= 'active' then return old end
local now = now_ms()
if old == 'waiting' then redis.call('ZREM', K_QUEUE .. jtype, id) end
if old == 'delayed' then redis.call('ZREM', K_DELAYED, id) end
if old == 'active' then
  redis.call('HSET', key, 'pause', '1')
  redis.call('PUBLISH', C_CONTROL, 'pause ' .. id)
end
redis.call('HSET', key, 'state', 'paused', 'paused_from', old)
move_state(id, jtype, old, 'paused', now)
emit(id, 'paused', now)
return old
