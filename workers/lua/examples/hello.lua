-- The benchmark app: the smallest useful handler.
--
--   ringbroker --workers 2 workers/lua/examples/hello.lua
--
-- The headers table is built once, when the app loads, not on every request.
local headers = { ["Content-Type"] = "text/plain" }

return function(req)
  return 200, headers, "hello world\n"
end
