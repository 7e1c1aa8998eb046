-- Read the next batch of persons in creation order, at their current
-- versions: at most ARGV[2] index entries with a sequence above ARGV[1].
-- KEYS: index. Returns {last_seq, entry_count, doc...}: the sequence number of
-- the last entry read ('' if none) and how many index entries were read.
-- NOTE: the person keys here are built from ids, not passed in KEYS, and
-- span many hash slots, so this script needs a single Redis primary.
local entries = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf',
  'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local reply = {'', #entries / 2}
for i = 1, #entries, 2 do
  local meta = 'person:{' .. entries[i] .. '}'
  local current = redis.call('HGET', meta, 'current')
  if current then
    reply[#reply + 1] = redis.call('HGET', meta .. ':v:' .. current, 'doc')
  end
  reply[1] = entries[i + 1]
end
return reply
