-- Shared by every per-person script. KEYS[1] is the person's meta hash,
-- person:{<id>}; its version hashes are person:{<id>}:v:<n>. They share the
-- hash tag {<id>}, so they live in the same Redis Cluster slot.
local meta = KEYS[1]

local function version_key(n)
  return meta .. ':v:' .. n
end

-- if_match is '' (no precondition), '*' (any existing state) or a
-- space-separated list of entity tags as the client sent them, quotes
-- included. A stored tag is kept without quotes, so a weak tag (W/"...")
-- or an empty one ("") never matches.
local function precondition_holds(if_match, current_etag)
  if if_match == '' or if_match == '*' then
    return true
  end
  local quoted = '"' .. current_etag .. '"'
  for tag in string.gmatch(if_match, '%S+') do
    if tag == quoted then
      return true
    end
  end
  return false
end

local function build_doc(id, version, fields, updated_at)
  return '{"id":"' .. id .. '","version":' .. version .. ',' .. fields
    .. ',"updated_at":"' .. updated_at .. '"}'
end
