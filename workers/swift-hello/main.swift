// A RingBroker worker in Swift, on the RingWorker module: "hello world", and on /echo the
// method and target, where the request came from (remote and local address and port, request
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
