-- Take back the jobs of workers that stopped renewing their leases (crashed, cut off).
-- Each becomes a new attempt at the front of its queue, or fails if it had its last attempt;
-- an abort requested meanwhile ends it aborted. Returns the ids taken back.
local now = now_ms()
local expired = redis.call('ZRANGEBYSCORE', K_LEASES, '-inf', now, 'LIMIT', 0, 500)
for _, id in ipairs(expired) do
  redis.call('ZREM', K_LEASES, id)
  local key = K_JOB .. id
  local f = redis.call('HMGET', key, 'type', 'state', 'attempts', 'max_attempts', 'priority',
    'worker', 'abort', 'errors', 'purge', 'pause')
  if f[1] then
    local jtype, old = f[1], f[2]
    redis.call('HDEL', key, 'token', 'pause', 'abort')
    local err = cjson.encode({type = 'WorkerLost', attempt = tonumber(f[3]),
      message = 'worker ' .. (f[6] or '?') .. ' stopped renewing its lease'})
    if f[7] == '1' then
      redis.call('HSET', key, 'state', 'aborted', 'finished', now,
        'error', cjson.encode({type = 'Aborted', message = 'aborted by user'}))
      redis.call('DEL', K_ARQ_JOB .. id)
      move_state(id, jtype, old, 'aborted', now)
      emit(id, 'aborted', now)
      if f[9] == '1' then purge(id, jtype, 'aborted') end
    else
      local errors = error_list(f[8])
      errors[#errors + 1] = cjson.decode(err)
      redis.call('HSET', key, 'error', err, 'errors', cjson.encode(errors))
      if (tonumber(f[3]) or 0) >= (tonumber(f[4]) or 0) then
        redis.call('HSET', key, 'state', 'failed', 'finished', now)
        redis.call('DEL', K_ARQ_JOB .. id)
        move_state(id, jtype, old, 'failed', now)
        emit(id, 'failed', now, 'lease expired')
      elseif f[10] == '1' then
        -- Paused by the user while running: stays paused, and queues again on resume.
        redis.call('HSET', key, 'state', 'paused', 'paused_from', 'waiting')
        move_state(id, jtype, old, 'paused', now)
        emit(id, 'paused', now, 'lease expired')
      else
        redis.call('HSET', key, 'state', 'waiting')
        move_state(id, jtype, old, 'waiting', now)
        enqueue(id, jtype, f[5], true)
        emit(id, 'retrying', now, 'lease expired')
        redis.call('PUBLISH', C_WAKE, jtype)
      end
    end
  end
end
return expired
