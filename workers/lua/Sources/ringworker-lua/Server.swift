import CLuaJIT
import CLuaShim
import RingWorker

/// The serving loop: each request goes to the app's handler, and its reply is written straight
/// into the request's slot. Every request gets exactly one reply: the handler's, or a 500 when
/// the handler fails or returns something that cannot be sent (the reason goes to the log).
final class Server {
  private let runtime: LuaRuntime
  private let worker: Worker
  private let reader = HandlerReplyReader()

  init(runtime: LuaRuntime, worker: Worker) {
    self.runtime = runtime
    self.worker = worker
  }

  /// Serves until the broker asks the worker to stop or goes away; returns the exit code.
  func run() -> Int32 {
    while true {
      switch worker.next(timeoutMilliseconds: -1) {
      case .request(let request): serve(request)
      case .timeout: continue
      case .exit(let reason):
        log("exiting: \(reason)")
        return 0
      }
    }
  }

  private func serve(_ request: Request) {
    currentRequest.pointee = request
    // After the send: the body was copied out of its Lua string, which may now be collected.
    defer {
      currentRequest.pointee = nil
      runtime.endRequest()
    }
    // Known before the reply starts, so that a reply too large is still a clean 500.
    let room = request.replyCapacity
    guard runtime.callHandler() == 0 else {
      log("\(requestLine(request)): handler failed: \(runtime.errorMessage())")
      return sendInternalError(request, room: room)
    }
    let reply: HandlerReply
    do {
      reply = try reader.read(runtime.state, at: LuaRuntime.resultIndex)
    } catch {
      log("\(requestLine(request)): \(error.message)")
      return sendInternalError(request, room: room)
    }
    guard reply.headerBytes + Self.streamingRoom <= room else {
      log(
        "\(requestLine(request)): reply header lines of \(reply.headerBytes) bytes leave too "
          + "little of the \(room) bytes of reply room in the request's slot")
      return sendInternalError(request, room: room)
    }
    if reply.bodyIsFunction || reply.headerBytes + reply.body.count > room {
      return stream(reply, for: request)
    }
    send(reply, for: request)
  }

  /// Reply room a streamed reply needs besides its header lines: its declared length and two
  /// halves to send from (ReplyWriter.minimumHalf each, with alignment).
  static let streamingRoom = 8 + 16 + 2 * 256

  /// A body function's pieces, or a string larger than the reply room, as a streamed reply:
  /// each piece goes out as it comes, the string's length is declared. A body function that
  /// fails or returns something else than a string or nil ends the reply with 500 if nothing
  /// went out yet, else its connection is closed.
  private func stream(_ reply: HandlerReply, for request: Request) {
    let writer = request.reply
    let state = runtime.state
    do throws(ReplyError) {
      try writer.start(status: reply.status)
      for index in 0..<reply.headerCount {
        let field = reader.field(at: index)
        try writer.addHeader(name: field.name, value: field.value)
      }
      guard reply.bodyIsFunction else {
        try writer.setLength(UInt64(reply.body.count))
        try writer.write(reply.body)
        return try writer.end()
      }
      let function = LuaRuntime.resultIndex + 2
      while true {
        lua_pushvalue(state, function)
        guard lua_pcall(state, 0, 1, LuaRuntime.errorHandlerIndex) == 0 else {
          let message = rbl_tostring(state, -1).map { String(cString: $0) } ?? "(no message)"
          log("\(requestLine(request)): body function failed: \(message)")
          return abort(writer)
        }
        switch lua_type(state, -1) {
        case LUA_TNIL:
          rbl_pop(state, 1)
          return try writer.end()
        case LUA_TSTRING:
          var length = 0
          let piece = lua_tolstring(state, -1, &length)
          try writer.write(UnsafeRawBufferPointer(start: length > 0 ? piece : nil, count: length))
          rbl_pop(state, 1)
        default:
          log(
            "\(requestLine(request)): body function returned \(lua_typename(state, lua_type(state, -1)).map { String(cString: $0) } ?? "?"), "
              + "expected a string or nil (the end)")
          return abort(writer)
        }
      }
    } catch {
      // A client that left is no error of the app's; anything else is logged.
      if error != .clientGone {
        log("\(requestLine(request)): streamed reply failed: \(error)")
      }
    }
  }

  private func abort(_ writer: ReplyWriter) {
    try? writer.abort(status: 500)
  }

  /// Status, header lines, then the body in one copy from the Lua string into shared memory.
  @inline(__always)
  private func send(_ reply: HandlerReply, for request: Request) {
    let writer = request.reply
    do {
      try writer.start(status: reply.status)
      for index in 0..<reply.headerCount {
        let field = reader.field(at: index)
        try writer.addHeader(name: field.name, value: field.value)
      }
      let out = try writer.body()
      if let source = reply.body.baseAddress, reply.body.count > 0 {
        out.baseAddress!.copyMemory(from: source, byteCount: reply.body.count)
      }
      try writer.send(bodyLength: reply.body.count)
    } catch {
      // The checks before the reply started make this unreachable; a started reply cannot
      // become a 500, so what was written goes out with an empty body.
      log("\(requestLine(request)): reply refused after it started: \(error)")
      try? writer.send(bodyLength: 0)
    }
  }

  private func sendInternalError(_ request: Request, room: Int) {
    let body: StaticString = "internal server error\n"
    let contentType = "Content-Type: text/plain\r\n".utf8.count
    do {
      try request.reply.start(status: 500)
      if room >= contentType + body.utf8CodeUnitCount {
        try request.reply.addHeader("Content-Type", "text/plain")
      }
      let out = try request.reply.body()
      let length = min(out.count, body.utf8CodeUnitCount)
      out.baseAddress!.copyMemory(from: body.utf8Start, byteCount: length)
      try request.reply.send(bodyLength: length)
    } catch {
      log("\(requestLine(request)): could not send the 500: \(error)")
    }
  }
}
