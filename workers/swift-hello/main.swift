// A RingBroker worker in Swift, on the RingWorker module: "hello world", and on /echo the
// method and target, where the request came from (remote and local address and port, request
// id, scheme, receive time: the same lines as workers/c-hello), its headers and body. On
// /bytes?n=N a streamed reply (`reply.write`, `reply.end`) of N bytes of c-hello's pattern
// (byte i is i % 251), its length declared; &chunked=1 without it.
// id, scheme, receive time: the same lines as workers/c-hello), its headers and body (when in
// the slot). On /sum, like workers/c-hello, "<length> <FNV-1a 64 hex> <streamed 0|1>\n" of the
// body read piece by piece with `request.bodyChunks` (any size: a large body streams in).
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

/// The body's length and FNV-1a 64, read in place piece by piece.
func sum(_ request: Request) throws(ReplyError) {
  var hash: UInt64 = 0xcbf2_9ce4_8422_2325
  var length = 0
  for chunk in request.bodyChunks {
    for byte in chunk { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    length += chunk.count
  }
  if let error = request.bodyError {
    return try send(request, status: 400, "\(error)\n")
  }
  let hex = String(hash, radix: 16)
  let text =
    "\(length) \(String(repeating: "0", count: 16 - hex.count))\(hex) "
    + "\(request.bodyIsStreamed ? 1 : 0)\n"
  try send(request, status: 200, text)
}

func send(_ request: Request, status: Int, _ text: String) throws(ReplyError) {
  let bytes = Array(text.utf8)
  let result = bytes.withUnsafeBytes { bytes in
    Result { () throws(ReplyError) in
      try request.reply.send(status: status, contentType: "text/plain", body: bytes)
    }
  }
  try result.get()
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
      } else if request.path.elementsEqual("/sum".utf8) {
        try sum(request)
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
