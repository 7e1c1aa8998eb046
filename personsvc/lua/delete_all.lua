-- Remove a person with every version and its index entry.
-- KEYS: meta, index. ARGV: id, if_match. Returns {204}, {404} or {412}.
local current = redis.call('HGET', meta, 'current')
if not current then
  return {404}
end
current = tonumber(current)
local current_etag = redis.call('HGET', version_key(current), 'etag')
if not precondition_holds(ARGV[2], current_etag) then
  return {412}
end
for n = 1, current do
  redis.call('DEL', version_key(n))
end
redis.call('DEL', meta)
redis.call('ZREM', KEYS[2], ARGV[1])
return {204}
