import CRingABI
import Glibc
import RingChannel

extension Worker {
  /// Attaches to a running broker through its control socket: asks for a channel and receives
  /// its memfd (SCM_RIGHTS). The connection stays open for the worker's life.
  public static func attach(endpoint path: String, spin: SpinPolicy = .fromEnvironment())
    throws(ChannelError) -> Worker
  {
    let socket = rb_unix_connect(path)
    guard socket >= 0 else {
      throw .system("connect to the broker's control socket \(path)", errno: -socket)
    }
    let request = Array("attach\n".utf8)
    let sent = request.withUnsafeBytes { rb_send_fd(socket, -1, $0.baseAddress, $0.count) }
    guard sent == request.count else {
      close(socket)
      throw .system("send to \(path)", errno: sent < 0 ? Int32(-sent) : EPIPE)
    }
    var reply = [UInt8](repeating: 0, count: 512)
    var fd: Int32 = -1
    let received = reply.withUnsafeMutableBytes {
      rb_recv_fd(socket, $0.baseAddress, $0.count, &fd)
    }
    let text = received > 0 ? String(decoding: reply.prefix(received), as: UTF8.self) : ""
    guard received > 0, text.hasPrefix("ok"), fd >= 0 else {
      close(socket)
      if fd >= 0 { close(fd) }
      let reason = text.isEmpty ? "the broker closed the connection" : text.trimmingCharacters()
      throw .invalidParameters("attach to \(path) refused: \(reason)")
    }
    let worker = try Worker(fd: fd, spin: spin)
    worker.controlConnection = socket
    return worker
  }
}

extension String {
  fileprivate func trimmingCharacters() -> String {
    String(
      self.drop { $0 == " " || $0 == "\n" }.reversed().drop { $0 == " " || $0 == "\n" }.reversed())
  }
}
