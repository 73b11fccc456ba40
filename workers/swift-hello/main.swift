// A RingBroker worker in Swift, on the RingWorker module: "hello world", and on /echo the
// method and target, where the request came from (remote and local address and port, request
// id, scheme, receive time: the same lines as workers/c-hello), its headers and body.
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
