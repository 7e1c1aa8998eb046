-- Write one imported record: version 1 of a new person, or the next
-- version of an existing one.
-- KEYS: meta, index, sequence. ARGV: id, fields, updated_at.
-- Returns {201, version} for a new person or {200, version}.
local state = redis.call('HMGET', meta, 'current', 'writes', 'seq')
if not state[1] then
  local seq = redis.call('INCR', KEYS[3])
  redis.call('HSET', version_key(1), 'doc', build_doc(ARGV[1], 1, ARGV[2], ARGV[3]), 'etag', seq .. '-1')
  redis.call('HSET', meta, 'current', 1, 'writes', 1, 'seq', seq)
  redis.call('ZADD', KEYS[2], seq, ARGV[1])
  return {201, 1}
end
local version = tonumber(state[1]) + 1
local writes = tonumber(state[2]) + 1
redis.call('HSET', version_key(version), 'doc', build_doc(ARGV[1], version, ARGV[2], ARGV[3]),
  'etag', state[3] .. '-' .. writes)
redis.call('HSET', meta, 'current', version, 'writes', writes)
return {200, version}
