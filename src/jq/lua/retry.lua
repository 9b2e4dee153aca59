-- Requeue a failed or aborted job with a fresh attempt count; its error history stays.
-- ARGV: id, arq payload. Returns the state it had, or nil if no such job.
local id = ARGV[1]
local key = K_JOB .. id
local f = redis.call('HMGET', key, 'type', 'state', 'priority')
if not f[1] then return nil end
local jtype, old = f[1], f[2]
if old ~= 'failed' and old ~= 'aborted' then return old end
local now = now_ms()
redis.call('HSET', key, 'state', 'waiting', 'attempts', 0, 'progress', '{"percentage":0}')
redis.call('HDEL', key, 'error', 'result', 'started', 'finished', 'run_at', 'worker', 'purge')
redis.call('SET', K_ARQ_JOB .. id, ARGV[2])
move_state(id, jtype, old, 'waiting', now)
enqueue(id, jtype, f[3], false)
emit(id, 'retried', now)
redis.call('PUBLISH', C_WAKE, jtype)
return old
