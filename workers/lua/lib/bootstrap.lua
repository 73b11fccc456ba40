-- Runs once per worker, before the app (embedded in ringworker-lua).
--
-- Arguments: `native`, the functions the worker (Swift) provides to read the request it is
-- serving straight from shared memory, and the compiled chunk of ringbroker.lua.
-- Returns the request object, the error handler for handler calls, and the app loader.
local native, ringbroker_chunk = ...

local debug, error, package, rawget, rawset = debug, error, package, rawget, rawset
local setmetatable, tostring, type = setmetatable, tostring, type

package.preload.ringbroker = function()
  return ringbroker_chunk(native)
end

-- The request object -------------------------------------------------------------------------

-- Header names are stored lower-case, so any spelling finds them: req.headers["Content-Type"].
local headers_meta = {
  __index = function(headers, name)
    if type(name) == "string" then
      local lower = name:lower()
      if lower ~= name then return rawget(headers, lower) end
    end
  end,
}

-- The next piece of the body (a string), nil at its end; raises when the body cannot be read
-- whole (the client left, broken framing).
local function next_body_chunk()
  local chunk, problem = native.body_chunk()
  if chunk == nil then error(problem or "req body read after its handler returned", 2) end
  if chunk == false then return nil end
  return chunk
end

-- What each field of `req` is made of, on first read. Each returns nil when no request is being
-- served (a script that kept `req` after its handler returned).
local loaders = {
  method = native.method,
  path = native.path,
  target = native.target,
  body = function()
    -- A body too large for the slot streams in as the client sends it: read it all here.
    local streamed = native.body_streamed()
    if streamed == nil then return nil end
    if not streamed then return native.body() end
    local parts = {}
    for chunk in next_body_chunk do parts[#parts + 1] = chunk end
    return table.concat(parts)
  end,
  -- req:body_chunks(): an iterator over the body's pieces, for bodies too large to hold.
  body_chunks = function()
    if native.active() then
      return function() return next_body_chunk end
    end
  end,
  query = native.query,
  remote_addr = native.remote_addr,
  remote_port = native.remote_port,
  local_addr = native.local_addr,
  local_port = native.local_port,
  id = native.id,
  scheme = native.scheme,
  headers = function()
    local headers = native.headers()
    if headers then return setmetatable(headers, headers_meta) end
  end,
  params = function()
    -- Only routes with captures set params; every other handler sees an empty table.
    if native.active() then return {} end
  end,
}

-- One table for the whole worker, reused for every request: fields are materialized on first
-- read and cached in it, and the worker clears it after each reply. A handler that reads
-- nothing costs no string, table or closure.
local req = setmetatable({}, {
  __index = function(req, key)
    local load = loaders[key]
    if load == nil then return nil end
    local value = load()
    if value == nil then
      error("req." .. key .. " read after its handler returned: req is valid only during the call", 2)
    end
    rawset(req, key, value)
    return value
  end,
})

-- Errors in handlers ---------------------------------------------------------------------------

-- The message handler of every handler call: the message plus a traceback, for the log.
local function handler_error(message)
  if type(message) ~= "string" then
    message = "(error object is a " .. type(message) .. " value: " .. tostring(message) .. ")"
  end
  return debug.traceback(message, 2)
end

-- Loading the app ------------------------------------------------------------------------------

-- Start-up errors are printed as ONE line, `file:line: message`, for the broker and for editors.
local function one_line(text)
  return (text:gsub("%s*\n%s*", " "))
end

local function has_position(message)
  return message:find("^[^\n]-:%d+:") ~= nil
end

-- The innermost Lua frame with a line, for errors raised without a position (error(x, 0)).
local function position(level)
  while true do
    local info = debug.getinfo(level, "Sl")
    if info == nil then return nil end
    if info.currentline > 0 then return info.short_src .. ":" .. info.currentline end
    level = level + 1
  end
end

local function load_error(message)
  if type(message) ~= "string" then
    message = "error object is a " .. type(message) .. " value: " .. tostring(message)
  end
  if not has_position(message) then
    message = (position(3) or "?:1") .. ": " .. message
  end
  return one_line(message)
end

-- The last line holding code: where "returns no handler" points (usually the `return`).
local function last_line(chunk)
  local last = 1
  for line in pairs(debug.getinfo(chunk, "L").activelines or {}) do
    if line > last then last = line end
  end
  return last
end

local function is_callable(value)
  if type(value) == "function" then return true end
  local meta = debug.getmetatable(value)
  return meta ~= nil and meta.__call ~= nil
end

local function describe(value)
  if value == nil then return "nothing (nil)" end
  if type(value) == "string" then return "the string '" .. value .. "'" end
  if type(value) == "table" then return "a table that is not callable (no __call)" end
  return "a " .. type(value) .. " (" .. tostring(value) .. ")"
end

-- Returns the handler, or nil and the one-line message.
local function load_app(path, extra_cpath)
  -- The app's own modules come first: require("models") finds models.lua next to the app.
  local directory = path:match("^(.*)/[^/]*$") or "."
  package.path = directory .. "/?.lua;" .. directory .. "/?/init.lua;" .. package.path
  if extra_cpath ~= "" and not package.cpath:find(extra_cpath, 1, true) then
    package.cpath = package.cpath .. ";" .. extra_cpath
  end

  local file, why = io.open(path, "rb")
  if file == nil then
    return nil, path .. ":1: cannot open the app: " .. (why:match(": ([^:]*)$") or why)
  end
  file:close()
  local chunk, message = loadfile(path)
  if chunk == nil then
    if not has_position(message) then message = path .. ":1: " .. message end
    return nil, one_line(message)
  end
  local ok, handler = xpcall(chunk, load_error)
  if not ok then return nil, handler end
  if not is_callable(handler) then
    return nil, path .. ":" .. last_line(chunk) .. ": the app returned " .. describe(handler)
      .. "; it must return a handler: function(req) returning status, headers, body,"
      .. " or a router from require(\"ringbroker\").router()"
  end
  return handler
end

return req, handler_error, load_app
