import CLuaJIT
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
    guard reply.headerBytes + reply.body.count <= room else {
      log(
        "\(requestLine(request)): reply of \(reply.headerBytes + reply.body.count) bytes (headers "
          + "and body) does not fit the \(room) bytes of reply room in the request's slot; "
          + "replies larger than a slot are not supported yet")
      return sendInternalError(request, room: room)
    }
    send(reply, for: request)
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
