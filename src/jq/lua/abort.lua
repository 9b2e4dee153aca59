-- Abort a job. ARGV: id, purge (1: also delete its record). A queued job ends at once; a
-- running one is flagged and its worker told to cancel it. Returns {state it had, what was
-- done: 'aborted' | 'requested' | 'purged' | 'ended'}, or nil if no such job.
local id, want_purge = ARGV[1], ARGV[2] == '1'
local key = K_JOB .. id
local f = redis.call('HMGET', key, 'type', 'state', 'token')
if not f[1] then return nil end
local jtype, old = f[1], f[2]
local now = now_ms()
if f[3] then
  redis.call('HSET', key, 'abort', '1')
  if want_purge then redis.call('HSET', key, 'purge', '1') end
  redis.call('PUBLISH', C_CONTROL, 'abort ' .. id)
  return {old, 'requested'}
end
if old == 'completed' or old == 'failed' or old == 'aborted' then
  if want_purge then
    purge(id, jtype, old)
    return {old, 'purged'}
  end
  return {old, 'ended'}
end
redis.call('ZREM', K_QUEUE .. jtype, id)
redis.call('ZREM', K_DELAYED, id)
redis.call('HSET', key, 'state', 'aborted', 'finished', now,
  'error', cjson.encode({type = 'Aborted', message = 'aborted by user before it ran'}))
redis.call('HDEL', key, 'pause', 'paused_from')
redis.call('DEL', K_ARQ_JOB .. id)
move_state(id, jtype, old, 'aborted', now)
emit(id, 'aborted', now)
if want_purge then
  purge(id, jtype, 'aborted')
  return {old, 'purged'}
end
return {old, 'aborted'}
