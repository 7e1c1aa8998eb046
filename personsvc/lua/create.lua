-- Create a person at version 1 and append it to the creation index.
-- KEYS: meta, index, sequence. ARGV: id, fields, updated_at.
-- Returns {201, doc, etag}, or {409} if the id is taken.
if redis.call('EXISTS', meta) == 1 then
  return {409}
end
local seq = redis.call('INCR', KEYS[3])
local etag = seq .. '-1'
local doc = build_doc(ARGV[1], 1, ARGV[2], ARGV[3])
redis.call('HSET', version_key(1), 'doc', doc, 'etag', etag)
redis.call('HSET', meta, 'current', 1, 'writes', 1, 'seq', seq)
redis.call('ZADD', KEYS[2], seq, ARGV[1])
return {201, doc, etag}
