-- A worker's heartbeat: renew the leases it holds and record itself.
-- ARGV: worker id, lease ms, worker info JSON, then pairs of (job id, token).
-- Returns the ids it no longer owns, each prefixed 'lost:', and those to abort, 'abort:'.
local now = now_ms()
local lease = tonumber(ARGV[2])
redis.call('ZADD', K_WORKERS, now + 3 * lease, ARGV[1])
redis.call('SET', K_WORKER .. ARGV[1], ARGV[3], 'PX', 3 * lease)
redis.call('ZREMRANGEBYSCORE', K_WORKERS, '-inf', now)
local out = {}
for i = 4, #ARGV, 2 do
  local id = ARGV[i]
  local f = redis.call('HMGET', K_JOB .. id, 'token', 'abort')
  if f[1] ~= ARGV[i + 1] then
    out[#out + 1] = 'lost:' .. id
  else
    redis.call('ZADD', K_LEASES, 'XX', now + lease, id)
    if f[2] == '1' then out[#out + 1] = 'abort:' .. id end
  end
end
return out
