import CLuaJIT
import CLuaShim

/// Pushes `req.query`: "a=1&b=x%20y&a=2&flag" → {a = {"1", "2"}, b = "x y", flag = ""}. Keys and
/// values are percent-decoded ('+' is a space); a repeated key gives the list of its values in
/// order; pairs with an empty key are skipped.
func pushQueryTable(_ state: OpaquePointer?, query: UnsafeRawBufferPointer) {
  lua_createtable(state, 0, 0)
  let table = lua_gettop(state)
  var start = 0
  while start < query.count {
    var end = start
    while end < query.count && query[end] != UInt8(ascii: "&") { end += 1 }
    let pair = UnsafeRawBufferPointer(rebasing: query[start..<end])
    let equals = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.count
    if equals > 0 {
      pushPercentDecoded(
        state, UnsafeRawBufferPointer(rebasing: pair[..<equals]), plusIsSpace: true)
      let valueStart = min(equals + 1, pair.count)
      pushPercentDecoded(
        state, UnsafeRawBufferPointer(rebasing: pair[valueStart...]), plusIsSpace: true)
      setOrAppend(state, table: table)
    }
    start = end + 1
  }
}

/// Stack: ..., key, value → ...; table[key] = value, or the list of every value when the key
/// repeats.
private func setOrAppend(_ state: OpaquePointer?, table: Int32) {
  lua_pushvalue(state, -2)
  lua_rawget(state, table)
  switch lua_type(state, -1) {
  case LUA_TNIL:
    rbl_pop(state, 1)
    lua_rawset(state, table)
  case LUA_TSTRING:
    // ..., key, value, first → ..., key, {first, value}
    lua_createtable(state, 2, 0)
    lua_insert(state, -2)
    lua_rawseti(state, -2, 1)
    lua_insert(state, -2)
    lua_rawseti(state, -2, 2)
    lua_rawset(state, table)
  default:
    // ..., key, value, list → ...
    lua_insert(state, -2)
    lua_rawseti(state, -2, Int32(lua_objlen(state, -2) + 1))
    rbl_pop(state, 2)
  }
}
