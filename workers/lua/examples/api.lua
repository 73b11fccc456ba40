-- A small JSON API on the router: routes with parameters, query strings, JSON bodies, and a
-- module of its own (store.lua, found next to this file).
--
--   curl localhost:8080/users?name=ada
--   curl localhost:8080/users/1
--   curl -X POST -d '{"name":"Grace Hopper","email":"grace@example.com"}' localhost:8080/users
local rb = require("ringbroker")
local cjson = require("cjson")
local store = require("store")

local app = rb.router()

-- Decodes a JSON object body; nil and a message when the body is not one.
local function json_body(req)
  local ok, value = pcall(cjson.decode, req.body)
  if not ok or type(value) ~= "table" then return nil, "the body must be a JSON object" end
  if type(value.name) ~= "string" or value.name == "" then return nil, "name is required" end
  return value
end

app:get("/", function(req)
  return 200, { ["Content-Type"] = "text/plain" }, "users API: GET /users, GET /users/:id, POST /users\n"
end)

app:get("/users", function(req)
  local limit = tonumber(req.query.limit)
  return rb.json(200, { users = store.list(req.query.name, limit) })
end)

app:get("/users/:id", function(req)
  local user = store.get(req.params.id)
  if user == nil then return rb.json(404, { error = "no user " .. req.params.id }) end
  return rb.json(200, user)
end)

app:post("/users", function(req)
  local fields, problem = json_body(req)
  if fields == nil then return rb.json(400, { error = problem }) end
  local user = store.put(nil, fields)
  return 201, { ["Content-Type"] = "application/json", ["Location"] = "/users/" .. user.id },
    cjson.encode(user)
end)

app:put("/users/:id", function(req)
  local fields, problem = json_body(req)
  if fields == nil then return rb.json(400, { error = problem }) end
  return rb.json(200, store.put(req.params.id, fields))
end)

app:delete("/users/:id", function(req)
  if not store.delete(req.params.id) then return rb.json(404, { error = "no user " .. req.params.id }) end
  return 204
end)

return app
