-- Create many persons at version 1, in argument order, and index them.
-- KEYS: index, sequence. ARGV: updated_at, meta key prefix 'person:{', then
-- id1, fields1, id2, fields2, ...
-- Returns {201, doc...}, or {409, id} without writing if an id is taken.
-- NOTE: the person keys are built from ids, not passed in KEYS, and span
-- many hash slots, so this script needs a single Redis primary.
local count = (#ARGV - 2) / 2
for i = 1, count do
  if redis.call('EXISTS', ARGV[2] .. ARGV[1 + 2 * i] .. '}') == 1 then
    return {409, ARGV[1 + 2 * i]}
  end
end
local first_seq = redis.call('INCRBY', KEYS[2], count) - count + 1
local reply = {201}
local index_entries = {}
for i = 1, count do
  local id = ARGV[1 + 2 * i]
  local meta = ARGV[2] .. id .. '}'
  local seq = first_seq + i - 1
  local doc = '{"id":"' .. id .. '","version":1,' .. ARGV[2 + 2 * i]
    .. ',"updated_at":"' .. ARGV[1] .. '"}'
  redis.call('HSET', meta .. ':v:1', 'doc', doc, 'etag', seq .. '-1')
  redis.call('HSET', meta, 'current', 1, 'writes', 1, 'seq', seq)
  index_entries[#index_entries + 1] = seq
  index_entries[#index_entries + 1] = id
  reply[#reply + 1] = doc
end
-- One ZADD for the whole chunk; unpack() takes a few thousand values at
-- most, and store.py sends at most 1000 persons (2000 values) per call.
redis.call('ZADD', KEYS[1], unpack(index_entries))
return reply
