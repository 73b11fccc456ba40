-- The api example's data: users in memory. Each worker process has its own copy, so this is a
-- demonstration of require() from the app's directory, not a database.
local store = {}

local users = {
  ["1"] = { id = "1", name = "Ada Lovelace", email = "ada@example.com" },
  ["2"] = { id = "2", name = "Alan Turing", email = "alan@example.com" },
}
local next_id = 3

function store.list(name_filter, limit)
  local found = {}
  for _, user in pairs(users) do
    if name_filter == nil or user.name:lower():find(name_filter:lower(), 1, true) then
      found[#found + 1] = user
    end
  end
  table.sort(found, function(a, b) return tonumber(a.id) < tonumber(b.id) end)
  while limit and #found > limit do found[#found] = nil end
  return found
end

function store.get(id)
  return users[id]
end

function store.put(id, fields)
  if id == nil then
    id = tostring(next_id)
    next_id = next_id + 1
  end
  local user = { id = id, name = fields.name, email = fields.email }
  users[id] = user
  return user
end

function store.delete(id)
  local existed = users[id] ~= nil
  users[id] = nil
  return existed
end

return store
