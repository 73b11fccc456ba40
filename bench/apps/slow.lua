-- The Lua app of bench/slow-handler.sh: a slow endpoint that keeps its worker busy, and a
-- fast one measured meanwhile.
--
--   /slow?ms=N   sleeps N ms (default 1000) in the handler (poll(2) through LuaJIT's ffi),
--                then answers "slept\n": the worker is taken, as by a slow database call
--   /spin?ms=N   the same, but busy: a loop on os.clock() (the worker burns a CPU meanwhile)
--   anything else  "hello world\n"
--
--   ringbroker --workers 2 bench/apps/slow.lua
local ffi = require("ffi")
ffi.cdef("int poll(void *fds, unsigned long nfds, int timeout);")

local headers = { ["Content-Type"] = "text/plain" }

local function milliseconds(req)
  return tonumber(req.query.ms) or 1000
end

return function(req)
  local path = req.path
  if path == "/slow" then
    ffi.C.poll(nil, 0, milliseconds(req))
    return 200, headers, "slept\n"
  elseif path == "/spin" then
    local stop = os.clock() + milliseconds(req) / 1000
    while os.clock() < stop do end
    return 200, headers, "spun\n"
  end
  return 200, headers, "hello world\n"
end
