-- A running job reports progress. ARGV: id, lease token, progress JSON.
-- Returns 'lost' (the job is no longer this worker's), 'abort', 'pause' or 'ok'.
local key = K_JOB .. ARGV[1]
local f = redis.call('HMGET', key, 'token', 'abort', 'pause')
if f[1] ~= ARGV[2] then return 'lost' end
redis.call('HSET', key, 'progress', ARGV[3])
emit(ARGV[1], 'progress', now_ms())
if f[2] == '1' then return 'abort' end
if f[3] == '1' then return 'pause' end
return 'ok'
