// A RingBroker worker in Swift, on the RingWorker module: "hello world", and on /echo the
// method and target, where the request came from (remote and local address and port, request
// id, scheme, receive time: the same lines as workers/c-hello), its headers and body. On
// /bytes?n=N a streamed reply (`reply.write`, `reply.end`) of N bytes of c-hello's pattern
// (byte i is i % 251), its length declared; &chunked=1 without it.
//
//   ringbroker --workers 2 --worker .build/release/swift-hello-worker
import Glibc
import RingWorker

func echo(_ request: Request) throws(ReplyError) {
  try request.reply.start(status: 200)
  try request.reply.addHeader("Content-Type", "text/plain")
  var text =
    String(decoding: request.method, as: UTF8.self) + " "
    + String(decoding: request.target, as: UTF8.self) + "\n"
    + "remote \(request.remoteAddress) \(request.remotePort)\n"
    + "local \(request.localAddress) \(request.localPort)\n"
    + "id \(request.requestID)\nscheme \(request.scheme)\nreceived \(request.receivedAt)\n"
  for index in 0..<request.headerCount {
    let (name, value) = request.header(at: index)!
    text +=
      String(decoding: name, as: UTF8.self) + ": " + String(decoding: value, as: UTF8.self) + "\n"
  }
  text += "\n"
  let out = try request.reply.body()
  let head = Array(text.utf8)
  guard head.count + request.body.count <= out.count else {
    throw ReplyError.noRoom(needed: head.count + request.body.count, available: out.count)
  }
  out.copyBytes(from: head)
  if !request.body.isEmpty {
    (out.baseAddress! + head.count).copyMemory(
      from: request.body.baseAddress!, byteCount: request.body.count)
  }
  try request.reply.send(bodyLength: head.count + request.body.count)
}

/// The value of `name` in the query (name=digits), or nil.
func queryNumber(_ query: UnsafeRawBufferPointer, _ name: String) -> Int? {
  for pair in query.split(separator: UInt8(ascii: "&")) {
    let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1)
    guard parts.count == 2, parts[0].elementsEqual(name.utf8) else { continue }
    return Int(String(decoding: parts[1], as: UTF8.self))
  }
  return nil
}

/// 64 KiB of the pattern plus one period, so that any offset starts a piece.
let pattern: [UInt8] = (0..<(65536 + 251)).map { UInt8($0 % 251) }

func bytes(_ request: Request) throws(ReplyError) {
  let total = queryNumber(request.query, "n") ?? 0
  try request.reply.start(status: 200)
  try request.reply.addHeader("Content-Type", "application/octet-stream")
  if queryNumber(request.query, "chunked") != 1 { try request.reply.setLength(UInt64(total)) }
  var sent = 0
  while sent < total {
    let count = min(65536, total - sent)
    let result: Result<Void, ReplyError> = pattern.withUnsafeBytes { piece in
      Result { () throws(ReplyError) in
        try request.reply.write(
          UnsafeRawBufferPointer(rebasing: piece[sent % 251..<sent % 251 + count]))
      }
    }
    try result.get()
    sent += count
  }
  try request.reply.end()
}

let hello: StaticString = "hello world\n"
let worker: Worker
do { worker = try Worker.fromEnvironment() } catch {
  fputs("swift-hello-worker: \(error)\n", stderr)
  exit(1)
}
loop: while true {
  switch worker.next() {
  case .request(let request):
    do {
      if request.path.elementsEqual("/echo".utf8) {
        try echo(request)
      } else if request.path.elementsEqual("/bytes".utf8) {
        try bytes(request)
      } else {
        try request.reply.send(
          status: 200, contentType: "text/plain",
          body: UnsafeRawBufferPointer(start: hello.utf8Start, count: hello.utf8CodeUnitCount))
      }
    } catch {
      fputs("swift-hello-worker: \(error)\n", stderr)
    }
  case .timeout: continue
  case .exit(let reason):
    fputs("swift-hello-worker: exiting: \(reason)\n", stderr)
    break loop
  }
}
