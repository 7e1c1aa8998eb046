-- Read the current version, or version ARGV[1] when it is not ''.
-- KEYS: meta. Returns {200, doc, etag}, {404, 'person'} or {404, 'version'}.
local current = redis.call('HGET', meta, 'current')
if not current then
  return {404, 'person'}
end
local version = current
if ARGV[1] ~= '' then
  version = ARGV[1]
  if tonumber(version) > tonumber(current) then
    return {404, 'version'}
  end
end
local stored = redis.call('HMGET', version_key(version), 'doc', 'etag')
if not stored[1] then
  return {404, 'version'}
end
return {200, stored[1], stored[2]}
