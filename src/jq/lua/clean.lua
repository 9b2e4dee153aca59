-- Remove ended jobs' records on demand. ARGV: state, type ('' for all types),
-- older than ms (0: any age), limit. Returns how many were removed.
local state, jtype = ARGV[1], ARGV[2]
local now = now_ms()
local idx = K_STATE .. state
if jtype ~= '' then idx = idx .. ':' .. jtype end
local max = '+inf'
if tonumber(ARGV[3]) > 0 then max = '(' .. fmt(now - tonumber(ARGV[3])) end
local ids = redis.call('ZRANGEBYSCORE', idx, '-inf', max, 'LIMIT', 0, tonumber(ARGV[4]))
for _, id in ipairs(ids) do
  local t = redis.call('HGET', K_JOB .. id, 'type')
  if t then purge(id, t, state) else redis.call('ZREM', idx, id) end
end
return #ids
