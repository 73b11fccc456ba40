-- require("ringbroker"): what apps use besides `req` (embedded in ringworker-lua).
--
--   local rb = require("ringbroker")
--   local app = rb.router()
--   app:get("/users/:id", function(req) return rb.json(200, { id = req.params.id }) end)
--   return app
--
-- The router answers 404 (no route for the path) and 405 (the path has routes, none for this
-- method; with an Allow header) itself, and is callable, so the app file can return it.
local native = ...

local error, ipairs, pairs, select, setmetatable, tostring, type =
  error, ipairs, pairs, select, setmetatable, tostring, type
local concat, sort = table.concat, table.sort
local find, match, gsub, upper = string.find, string.match, string.gsub, string.upper
local unescape = native.unescape

local ringbroker = { unescape = unescape }

local cjson
--- `return rb.json(status, value)`: a JSON reply, encoded in one pass by lua-cjson.
-- Every call gets a headers table of its own: a handler may add to it (Location, Set-Cookie)
-- before returning it, and a table shared between replies would carry that into every later
-- one. A small constructor costs less than the encoding next to it.
function ringbroker.json(status, value)
  cjson = cjson or require("cjson")
  return status, { ["Content-Type"] = "application/json" }, cjson.encode(value)
end

-- Routes ---------------------------------------------------------------------------------------

local function escape(literal)
  return (gsub(literal, "[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0"))
end

-- "/users/:id/files/*rest" -> "^/users/([^/]+)/files/(.*)$", { "id", "rest" }.
-- Returns nil for a path without captures: those are looked up by exact match.
local function compile(path)
  if not find(path, "[:*]") then return nil end
  local pattern, names, position = "^", {}, 1
  while true do
    local start, stop, kind, name = find(path, "([:*])([%w_]*)", position)
    if start == nil then break end
    if name == "" then
      error("route '" .. path .. "': '" .. kind .. "' needs a name, as in :id or *rest", 3)
    end
    if kind == "*" and stop ~= #path then
      error("route '" .. path .. "': *" .. name .. " must end the route", 3)
    end
    pattern = pattern .. escape(path:sub(position, start - 1)) .. (kind == ":" and "([^/]+)" or "(.*)")
    names[#names + 1] = name
    position = stop + 1
  end
  return pattern .. escape(path:sub(position)) .. "$", names
end

-- Errors in route definitions name the app's line: app:get(...) tail-calls route, so the app is
-- level 2 from route and level 3 from compile.
local Router = {}
Router.__index = Router

--- A new router: add routes with app:get(path, handler) and friends, then `return app`.
function ringbroker.router()
  return setmetatable({ exact = {}, patterns = {} }, Router)
end

--- Routes `method` (e.g. "GET", or "*" for any) on `path` to `handler(req)`.
function Router:route(method, path, handler)
  if type(path) ~= "string" or path:sub(1, 1) ~= "/" then
    error("route path must be a string starting with '/', got " .. tostring(path), 2)
  end
  if type(handler) ~= "function" and type(handler) ~= "table" then
    error("route " .. method .. " " .. path .. ": handler must be a function, got " .. type(handler), 2)
  end
  local pattern, names = compile(path)
  local route
  if pattern == nil then
    route = self.exact[path]
    if route == nil then
      route = { methods = {} }
      self.exact[path] = route
    end
  else
    for _, existing in ipairs(self.patterns) do
      if existing.path == path then route = existing end
    end
    if route == nil then
      route = { path = path, pattern = pattern, names = names, methods = {} }
      self.patterns[#self.patterns + 1] = route
    end
  end
  route.methods[method] = handler
  return self
end

for _, method in ipairs({ "get", "post", "put", "delete", "patch", "head", "options" }) do
  local name = upper(method)
  Router[method] = function(self, path, handler)
    return self:route(name, path, handler)
  end
end

--- Routes every method on `path` to `handler` (other routes for the path still take precedence).
function Router:any(path, handler)
  return self:route("*", path, handler)
end

-- Dispatch -------------------------------------------------------------------------------------

local function pick(methods, method)
  return methods[method] or (method == "HEAD" and methods.GET) or methods["*"]
end

local function params_of(names, ...)
  local params = {}
  for i = 1, #names do
    params[names[i]] = unescape((select(i, ...)))
  end
  return params
end

local function method_not_allowed(allowed)
  local list = {}
  for method in pairs(allowed) do list[#list + 1] = method end
  if allowed.GET and not allowed.HEAD then list[#list + 1] = "HEAD" end
  sort(list)
  return 405, { ["Allow"] = concat(list, ", "), ["Content-Type"] = "text/plain" }, "method not allowed\n"
end

local function note_allowed(allowed, methods)
  allowed = allowed or {}
  for method in pairs(methods) do allowed[method] = true end
  return allowed
end

-- Exact paths first (one table lookup), then patterns in the order they were added.
function Router:__call(req)
  local path, method = req.path, req.method
  local allowed
  local route = self.exact[path]
  if route ~= nil then
    local handler = pick(route.methods, method)
    if handler ~= nil then return handler(req) end
    allowed = note_allowed(allowed, route.methods)
  end
  local patterns = self.patterns
  for i = 1, #patterns do
    route = patterns[i]
    -- Up to four captures come from this one match; more are matched again on a hit.
    local a, b, c, d = match(path, route.pattern)
    if a ~= nil then
      local handler = pick(route.methods, method)
      if handler ~= nil then
        local names = route.names
        if #names <= 4 then
          req.params = params_of(names, a, b, c, d)
        else
          req.params = params_of(names, match(path, route.pattern))
        end
        return handler(req)
      end
      allowed = note_allowed(allowed, route.methods)
    end
  end
  if allowed ~= nil then return method_not_allowed(allowed) end
  if self.not_found ~= nil then return self.not_found(req) end
  -- A fresh table, as in rb.json: a wrapper may add to the router's reply.
  return 404, { ["Content-Type"] = "text/plain" }, "not found\n"
end

return ringbroker
