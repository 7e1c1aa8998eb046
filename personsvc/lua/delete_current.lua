-- Remove the current version; the one before it becomes current. Removing
-- version 1 removes the person and its index entry.
-- KEYS: meta, index. ARGV: id, if_match.
-- Returns {200, doc, etag} of the new current version, {204}, {404} or {412}.
local current = redis.call('HGET', meta, 'current')
if not current then
  return {404}
end
current = tonumber(current)
local current_etag = redis.call('HGET', version_key(current), 'etag')
if not precondition_holds(ARGV[2], current_etag) then
  return {412}
end
redis.call('DEL', version_key(current))
if current == 1 then
  redis.call('DEL', meta)
  redis.call('ZREM', KEYS[2], ARGV[1])
  return {204}
end
redis.call('HSET', meta, 'current', current - 1)
local stored = redis.call('HMGET', version_key(current - 1), 'doc', 'etag')
return {200, stored[1], stored[2]}
