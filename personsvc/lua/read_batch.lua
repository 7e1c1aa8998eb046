-- Read the next batch of persons in creation order, at their current
-- versions: at most ARGV[2] index entries with a sequence above ARGV[1].
-- KEYS: index. ARGV[3] is the meta key prefix, 'person:{'.
-- Returns {last_seq, more, doc...}: the sequence number of the last entry
-- read ('' if none), 1 if the index has entries after it (else 0), and the
-- documents of the persons that still exist.
-- NOTE: the person keys here are built from ids, not passed in KEYS, and
-- span many hash slots, so this script needs a single Redis primary.
local entries = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf',
  'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local reply = {'', 0}
for i = 1, #entries, 2 do
  local meta = ARGV[3] .. entries[i] .. '}'
  local current = redis.call('HGET', meta, 'current')
  if current then
    reply[#reply + 1] = redis.call('HGET', meta .. ':v:' .. current, 'doc')
  end
  reply[1] = entries[i + 1]
end
if reply[1] ~= '' then
  local after = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. reply[1], '+inf', 'LIMIT', 0, 1)
  if #after > 0 then
    reply[2] = 1
  end
end
return reply
