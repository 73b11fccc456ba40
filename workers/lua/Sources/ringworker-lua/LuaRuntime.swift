import CLuaJIT
import CLuaShim

/// The worker's Lua state: LuaJIT with its standard libraries, the embedded bootstrap
/// (workers/lua/lib) and the app, loaded once. The bottom of the stack holds, for the worker's
/// whole life, the three values every handler call needs, so a call looks nothing up.
final class LuaRuntime {
  let state: OpaquePointer

  /// The reusable request object (bootstrap.lua).
  static let requestIndex: Int32 = 1
  /// The message handler that appends a traceback to handler errors.
  static let errorHandlerIndex: Int32 = 2
  /// The app's handler: a function, or a callable table such as a router.
  static let handlerIndex: Int32 = 3
  /// Where a call's results (status, headers, body) or its error message land.
  static let resultIndex: Int32 = 4

  /// Debian installs lua-cjson (and other C modules) for LuaJIT under the multiarch directory.
  #if arch(x86_64)
    private static let systemModules = "/usr/lib/x86_64-linux-gnu/lua/5.1/?.so"
  #elseif arch(arm64)
    private static let systemModules = "/usr/lib/aarch64-linux-gnu/lua/5.1/?.so"
  #else
    private static let systemModules = ""
  #endif

  init() {
    // luaL_newstate fails only without memory.
    state = luaL_newstate()!
    luaL_openlibs(state)
  }

  /// Runs the bootstrap, then the app at `path`. Returns nil when the app is ready to serve, or
  /// the one-line `file:line: message` saying why it is not.
  func loadApp(path: String) -> String? {
    load(rbl_bootstrap_source, name: "=bootstrap.lua")
    pushNatives(state)
    load(rbl_ringbroker_source, name: "=ringbroker.lua")
    guard lua_pcall(state, 2, 3, 0) == 0 else {
      fatalError("bootstrap.lua failed: \(String(cString: rbl_tostring(state, -1)))")
    }
    // Stack: req, handler_error, load_app.
    lua_pushstring(state, path)
    lua_pushstring(state, Self.systemModules)
    guard lua_pcall(state, 2, 2, 0) == 0 else {
      return "\(path):1: \(String(cString: rbl_tostring(state, -1)))"
    }
    // Stack: req, handler_error, handler or nil, nil or message.
    if lua_type(state, Self.handlerIndex) == LUA_TNIL {
      return String(cString: rbl_tostring(state, -1))
    }
    lua_settop(state, Self.handlerIndex)
    return nil
  }

  /// Calls the handler with the request object: LUA_OK (0) with status, headers and body at
  /// `resultIndex...`, or an error code with the message and traceback at `resultIndex`.
  @inline(__always)
  func callHandler() -> Int32 {
    lua_pushvalue(state, Self.handlerIndex)
    lua_pushvalue(state, Self.requestIndex)
    return lua_pcall(state, 1, 3, Self.errorHandlerIndex)
  }

  /// After the reply is sent: drops the call's results and every field the script read or set
  /// on `req`, so the next request starts from an empty object. Costs one lua_next when the
  /// script touched nothing.
  @inline(__always)
  func endRequest() {
    lua_settop(state, Self.handlerIndex)
    lua_pushnil(state)
    while lua_next(state, Self.requestIndex) != 0 {
      rbl_pop(state, 1)
      lua_pushvalue(state, -1)
      lua_pushnil(state)
      // Clearing a field during traversal is allowed; the key stays for the next lua_next.
      lua_rawset(state, Self.requestIndex)
    }
  }

  /// The error message (and traceback) of a failed call.
  func errorMessage() -> String {
    guard let text = rbl_tostring(state, Self.resultIndex) else {
      return "(error object is not a string)"
    }
    return String(cString: text)
  }

  private func load(_ source: (UnsafeMutablePointer<Int>?) -> UnsafePointer<CChar>?, name: String) {
    var length = 0
    let code = source(&length)
    guard rbl_loadbuffer(state, code, length, name) == 0 else {
      fatalError("embedded \(name) does not compile: \(String(cString: rbl_tostring(state, -1)))")
    }
  }
}
