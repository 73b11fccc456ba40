import CLuaJIT
import CLuaShim
import ReplyHeaderRules

/// Why a handler's return values cannot be sent; the request gets a 500 and this is logged.
struct ReplyProblem: Error {
  var message: String
}

/// A handler's reply, read from the Lua stack and checked before any of it is written. Names,
/// values and body point into Lua strings, alive until the stack is reset after the send.
struct HandlerReply {
  var status: Int
  var headerCount: Int
  /// Bytes the header lines take in the slot: "Name: value\r\n" each.
  var headerBytes: Int
  var body: UnsafeRawBufferPointer
  /// The body is a function (at the body's stack index): called until it returns nil, each
  /// string it returns written as one part of a streamed reply.
  var bodyIsFunction = false
  /// Bytes of the reader's number-text buffer in use (for header values given as numbers).
  var numberTextUsed = 0
}

/// Reads `status, headers, body` as a handler returned them: the headers table is iterated once,
/// each field checked by the rules the worker library applies (ReplyHeaderRules) before the
/// reply starts, since a started reply cannot become a 500, and kept as pointers into Lua
/// strings in a list reused for every request.
final class HandlerReplyReader {
  typealias Field = (name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)

  static let maximumHeaders = 100
  private let fields = UnsafeMutablePointer<Field>.allocate(capacity: maximumHeaders)
  /// Text of number values (tostring), which no Lua value keeps alive. (State that changes per
  /// request lives in HandlerReply: a class's stored `var` pays a dynamic exclusivity check.)
  private let numberText = UnsafeMutablePointer<UInt8>.allocate(capacity: maximumHeaders * 32)

  func field(at index: Int) -> Field { fields[index] }

  func read(_ state: OpaquePointer, at index: Int32) throws(ReplyProblem) -> HandlerReply {
    var reply = HandlerReply(
      status: try status(state, at: index), headerCount: 0, headerBytes: 0,
      body: .init(start: nil, count: 0))
    switch lua_type(state, index + 1) {
    case LUA_TNIL: break
    case LUA_TTABLE: try readHeaders(state, table: index + 1, into: &reply)
    default:
      throw ReplyProblem(
        message: "handler returned headers \(describe(state, index + 1)), expected a table such as "
          + "{[\"Content-Type\"] = \"text/plain\"} or nil")
    }
    switch lua_type(state, index + 2) {
    case LUA_TNIL: break
    case LUA_TSTRING:
      var length = 0
      reply.body = UnsafeRawBufferPointer(
        start: lua_tolstring(state, index + 2, &length), count: length)
    case LUA_TFUNCTION:
      reply.bodyIsFunction = true
    default:
      throw ReplyProblem(
        message: "handler returned body \(describe(state, index + 2)), expected a string, a "
          + "function that returns the body piece by piece, or nil (encode tables with "
          + "cjson.encode)")
    }
    return reply
  }

  private func status(_ state: OpaquePointer, at index: Int32) throws(ReplyProblem) -> Int {
    if lua_type(state, index) == LUA_TNUMBER {
      let number = lua_tonumber(state, index)
      if number >= 200 && number <= 599 && Double(Int(number)) == number { return Int(number) }
    }
    throw ReplyProblem(
      message: "handler returned status \(describe(state, index)), expected an integer 200..599")
  }

  private func readHeaders(_ state: OpaquePointer, table: Int32, into reply: inout HandlerReply)
    throws(ReplyProblem)
  {
    lua_pushnil(state)
    while lua_next(state, table) != 0 {
      // Stack: ..., name, value. Only a string name may be read in place: lua_tolstring would
      // turn a number key into a string and break lua_next.
      guard lua_type(state, -2) == LUA_TSTRING else {
        throw ReplyProblem(
          message: "handler returned a header name \(describe(state, -2)), expected a string: "
            + "headers are {[\"Name\"] = \"value\"}")
      }
      var nameLength = 0
      let name = UnsafeRawBufferPointer(
        start: lua_tolstring(state, -2, &nameLength), count: nameLength)
      switch lua_type(state, -1) {
      case LUA_TSTRING, LUA_TNUMBER:
        try add(name: name, value: valueText(state, at: -1, of: name, for: &reply), to: &reply)
      case LUA_TTABLE:
        // A list of values: one header line each (Set-Cookie).
        let count = lua_objlen(state, -1)
        for position in 0..<count {
          lua_rawgeti(state, -1, Int32(position + 1))
          let value = try valueText(state, at: -1, of: name, for: &reply)
          rbl_pop(state, 1)  // the list still holds the string
          try add(name: name, value: value, to: &reply)
        }
      default:
        throw ReplyProblem(
          message: "header '\(text(name))' has value \(describe(state, -1)), expected a string, "
            + "a number or a list of strings")
      }
      rbl_pop(state, 1)
    }
  }

  private func valueText(
    _ state: OpaquePointer, at index: Int32, of name: UnsafeRawBufferPointer,
    for reply: inout HandlerReply
  ) throws(ReplyProblem) -> UnsafeRawBufferPointer {
    var length = 0
    switch lua_type(state, index) {
    case LUA_TSTRING:
      return UnsafeRawBufferPointer(start: lua_tolstring(state, index, &length), count: length)
    case LUA_TNUMBER:
      // One 32-byte cell per header line at most: the list is full when the headers are.
      guard reply.headerCount < Self.maximumHeaders else {
        throw ReplyProblem(
          message: "handler returned more than \(Self.maximumHeaders) header lines")
      }
      // Convert a copy: converting in place would change the table's value (or a lua_next key).
      lua_pushvalue(state, index)
      let converted = lua_tolstring(state, -1, &length)!
      let out = numberText + reply.numberTextUsed
      out.update(
        from: UnsafeRawPointer(converted).assumingMemoryBound(to: UInt8.self),
        count: min(length, 32))
      rbl_pop(state, 1)
      reply.numberTextUsed += 32
      return UnsafeRawBufferPointer(start: out, count: min(length, 32))
    default:
      throw ReplyProblem(
        message:
          "header '\(text(name))' has a list element \(describe(state, index)), expected a string or a number"
      )
    }
  }

  private func add(
    name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, to reply: inout HandlerReply
  )
    throws(ReplyProblem)
  {
    guard reply.headerCount < Self.maximumHeaders else {
      throw ReplyProblem(message: "handler returned more than \(Self.maximumHeaders) header lines")
    }
    guard ReplyHeaderRules.isName(name) else {
      throw ReplyProblem(
        message: "header name '\(text(name))' is not a token (letters, digits, !#$%&'*+-.^_`|~)")
    }
    guard ReplyHeaderRules.isValue(value) else {
      throw ReplyProblem(
        message: "header '\(text(name))' has a value with control characters (CR, LF, ...)")
    }
    guard !ReplyHeaderRules.isFramingName(name) else {
      throw ReplyProblem(
        message: "header '\(text(name))' is written by the front; remove it (the front owns "
          + ReplyHeaderRules.framingNames.joined(separator: ", ") + ")")
    }
    fields[reply.headerCount] = (name, value)
    reply.headerCount += 1
    reply.headerBytes += name.count + 2 + value.count + 2
  }
}

private func text(_ bytes: UnsafeRawBufferPointer) -> String {
  let shown = String(decoding: bytes.prefix(80), as: UTF8.self)
  return bytes.count > 80 ? shown + "..." : shown
}

/// A Lua value for a log line: 'abc' (string), 99.5 (number), nil, a table.
private func describe(_ state: OpaquePointer, _ index: Int32) -> String {
  let type = lua_type(state, index)
  switch type {
  case LUA_TNIL, LUA_TNONE:
    return "nil"
  case LUA_TSTRING:
    var length = 0
    let bytes = UnsafeRawBufferPointer(start: lua_tolstring(state, index, &length), count: length)
    return "'\(text(bytes))' (string)"
  case LUA_TNUMBER:
    let number = lua_tonumber(state, index)
    let shown =
      number == number.rounded(.towardZero) && abs(number) < 1e15
      ? String(Int(number)) : String(number)
    return "\(shown) (number)"
  case LUA_TBOOLEAN:
    return lua_toboolean(state, index) != 0 ? "true (boolean)" : "false (boolean)"
  default:
    return "a " + String(cString: lua_typename(state, type))
  }
}
