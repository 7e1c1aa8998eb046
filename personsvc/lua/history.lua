-- Read versions ARGV[1] .. ARGV[1] + ARGV[2] - 1, stopping at the current one.
-- KEYS: meta. Returns {200, current, doc...} or {404}.
local current = redis.call('HGET', meta, 'current')
if not current then
  return {404}
end
current = tonumber(current)
local first = tonumber(ARGV[1])
local last = math.min(current, first + tonumber(ARGV[2]) - 1)
local reply = {200, current}
for n = first, last do
  reply[#reply + 1] = redis.call('HGET', version_key(n), 'doc')
end
return reply
