import CLuaJIT
import RingWorker

/// Pushes `req.headers`: names lower-cased (bootstrap.lua makes lookups case-insensitive),
/// values as sent. A repeated header's values are joined with ", " (RFC 9110 §5.3), or "; " for
/// Cookie (RFC 6265 §5.4).
func pushHeaderTable(_ state: OpaquePointer?, request: Request) {
  lua_createtable(state, 0, Int32(request.headerCount))
  let table = lua_gettop(state)
  for index in 0..<request.headerCount {
    let (name, value) = request.header(at: index)!
    let lower = scratchBytes(name.count)
    for offset in 0..<name.count {
      let byte = name[offset]
      lower[offset] = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
    lower.withMemoryRebound(to: CChar.self, capacity: name.count) {
      lua_pushlstring(state, $0, name.count)
    }
    lua_pushvalue(state, -1)
    lua_rawget(state, table)
    if lua_type(state, -1) == LUA_TSTRING {
      // ..., name, earlier → ..., name, earlier .. separator .. value
      let isCookie = UnsafeBufferPointer(start: lower, count: name.count).elementsEqual(
        "cookie".utf8)
      lua_pushstring(state, isCookie ? "; " : ", ")
      pushBytes(state, value)
      lua_concat(state, 3)
    } else {
      lua_settop(state, -2)
      pushBytes(state, value)
    }
    lua_rawset(state, table)
  }
}
