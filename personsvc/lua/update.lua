-- Write a new version (current + 1) of an existing person.
-- KEYS: meta. ARGV: id, fields, updated_at, if_match, expected_version ('' for none).
-- Returns {200, doc, etag}, {404} or {412}.
local state = redis.call('HMGET', meta, 'current', 'writes', 'seq')
if not state[1] then
  return {404}
end
local current = tonumber(state[1])
local current_etag = redis.call('HGET', version_key(current), 'etag')
if not precondition_holds(ARGV[4], current_etag) then
  return {412}
end
if ARGV[5] ~= '' and tonumber(ARGV[5]) ~= current then
  return {412}
end
local version = current + 1
-- 'writes' only grows, so a version number written again after a delete
-- gets a new entity tag.
local writes = tonumber(state[2]) + 1
local etag = state[3] .. '-' .. writes
local doc = build_doc(ARGV[1], version, ARGV[2], ARGV[3])
redis.call('HSET', version_key(version), 'doc', doc, 'etag', etag)
redis.call('HSET', meta, 'current', version, 'writes', writes)
return {200, doc, etag}
