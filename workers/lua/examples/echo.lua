-- Replies with what it received, as JSON (used by the tests):
--   method, path, target, query, headers (names lower-case), body_length, body_fnv1a (FNV-1a,
--   32 bits, hex) and, with ?echo=body, the body itself.
-- ?status=NNN picks the reply status.
local cjson = require("cjson")
local bit = require("bit")

local bxor, tobit, lshift, tohex = bit.bxor, bit.tobit, bit.lshift, bit.tohex
local byte = string.byte

-- FNV-1a over 32 bits. h * 16777619 = (h << 24) + h * 403: both parts stay exact in a double.
local function fnv1a(text)
  local hash = tobit(0x811c9dc5)
  for i = 1, #text do
    hash = bxor(hash, byte(text, i))
    hash = tobit(lshift(hash, 24) + hash * 403)
  end
  return tohex(hash)
end

local headers = { ["Content-Type"] = "application/json" }

return function(req)
  local body = req.body
  local seen_headers = {}
  for name, value in pairs(req.headers) do seen_headers[name] = value end
  local reply = {
    method = req.method,
    path = req.path,
    target = req.target,
    query = req.query,
    headers = seen_headers,
    body_length = #body,
    body_fnv1a = fnv1a(body),
  }
  if req.query.echo == "body" then reply.body = body end
  return tonumber(req.query.status) or 200, headers, cjson.encode(reply)
end
