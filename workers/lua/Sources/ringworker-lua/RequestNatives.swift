import CLuaJIT
import CLuaShim
import RingWorker

/// The request being served; nil between requests. Behind a pointer: a mutable global pays a
/// dynamic exclusivity check (a thread-local lookup) on every access, twice per request.
let currentRequest: UnsafeMutablePointer<Request?> = {
  let pointer = UnsafeMutablePointer<Request?>.allocate(capacity: 1)
  pointer.initialize(to: nil)
  return pointer
}()

/// The functions bootstrap.lua builds `req` from. Each pushes a value read straight from shared
/// memory (lua_pushlstring copies it into Lua once), or nothing when no request is current.
///
/// They must never raise a Lua error: that would unwind through Swift frames. Bad input is
/// answered with nil, and the Lua side raises.
func pushNatives(_ state: OpaquePointer) {
  let natives: [(name: String, function: lua_CFunction)] = [
    ("method", { state in pushField(state) { $0.method } }),
    ("path", { state in pushField(state) { $0.path } }),
    ("target", { state in pushField(state) { $0.target } }),
    ("body", { state in pushField(state) { $0.body } }),
    (
      "body_streamed",
      { state in
        guard let request = currentRequest.pointee else { return 0 }
        lua_pushboolean(state, request.bodyIsStreamed ? 1 : 0)
        return 1
      }
    ),
    (
      "body_chunk",
      { state in
        // The next piece of the body as a string, false at its end, or nil and the reason when
        // it cannot be read whole (the Lua side raises).
        guard let request = currentRequest.pointee else { return 0 }
        do {
          if let chunk = try request.nextBodyChunk() {
            pushBytes(state, chunk)
          } else {
            lua_pushboolean(state, 0)
          }
          return 1
        } catch {
          lua_pushnil(state)
          var message = "request body: \(error)"
          message.withUTF8 { pushBytes(state, UnsafeRawBufferPointer($0)) }
          return 2
        }
      }
    ),
    ("remote_addr", { state in pushField(state) { $0.remoteAddressText } }),
    ("local_addr", { state in pushField(state) { $0.localAddressText } }),
    ("scheme", { state in pushField(state) { $0.schemeText } }),
    ("remote_port", { state in pushInteger(state) { $0.remotePort } }),
    ("local_port", { state in pushInteger(state) { $0.localPort } }),
    (
      "id",
      { state in
        // A decimal string: Lua numbers are doubles, exact only below 2^53, and the id uses all
        // 64 bits (the front thread sits in the top 8).
        guard let request = currentRequest.pointee else { return 0 }
        pushDecimal(state, request.requestID)
        return 1
      }
    ),
    (
      "query",
      { state in
        guard let request = currentRequest.pointee else { return 0 }
        pushQueryTable(state, query: request.query)
        return 1
      }
    ),
    (
      "headers",
      { state in
        guard let request = currentRequest.pointee else { return 0 }
        pushHeaderTable(state, request: request)
        return 1
      }
    ),
    (
      "active",
      { state in
        lua_pushboolean(state, currentRequest.pointee == nil ? 0 : 1)
        return 1
      }
    ),
    (
      "unescape",
      { state in
        // Percent-decodes a string (route parameters); anything else is returned unchanged.
        guard lua_type(state, 1) == LUA_TSTRING else {
          lua_settop(state, 1)
          return 1
        }
        var length = 0
        let text = UnsafeRawBufferPointer(start: lua_tolstring(state, 1, &length), count: length)
        pushPercentDecoded(state, text, plusIsSpace: false)
        return 1
      }
    ),
  ]
  lua_createtable(state, 0, Int32(natives.count))
  for native in natives {
    rbl_pushcfunction(state, native.function)
    lua_setfield(state, -2, native.name)
  }
}

@inline(__always)
private func pushField(_ state: OpaquePointer?, _ field: (Request) -> UnsafeRawBufferPointer)
  -> Int32
{
  guard let request = currentRequest.pointee else { return 0 }
  pushBytes(state, field(request))
  return 1
}

@inline(__always)
private func pushInteger(_ state: OpaquePointer?, _ field: (Request) -> Int) -> Int32 {
  guard let request = currentRequest.pointee else { return 0 }
  lua_pushinteger(state, lua_Integer(field(request)))
  return 1
}

/// Pushes `value` in decimal, formatted on the stack (no Swift String per request).
private func pushDecimal(_ state: OpaquePointer?, _ value: UInt64) {
  withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
    var start = 20
    var rest = value
    repeat {
      start -= 1
      digits[start] = UInt8(ascii: "0") + UInt8(rest % 10)
      rest /= 10
    } while rest > 0
    pushBytes(state, UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: digits[start...])))
  }
}

@inline(__always)
func pushBytes(_ state: OpaquePointer?, _ bytes: UnsafeRawBufferPointer) {
  // A nil address comes with length 0, which LuaJIT answers with the empty string unread.
  lua_pushlstring(state, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count)
}
