import CRingABI
import Glibc
import RingChannel

/// The control socket: a unix socket (mode 0600, peer uid checked) where a worker started by
/// hand asks to be attached. It gets a new channel's memfd over SCM_RIGHTS; the channel is
/// handed to a front thread's dispatcher, which serves it until the worker exits. Control
/// plane only: one plain thread, blocking calls.
public final class ControlServer {
  public let path: String
  private let listenFd: Int32
  private let parameters: ChannelParameters
  private let adopt: (AttachedWorker) -> Void
  private var nextID: Int

  /// A worker that attached: its channel, its pid, and the connection kept open for its life.
  public struct AttachedWorker {
    public var id: Int
    public var segment: ChannelSegment
    public var pid: pid_t
    public var connection: Int32
  }

  /// The default path: $XDG_RUNTIME_DIR/ringbroker/NAME.sock, /run/ringbroker/NAME.sock for
  /// root, else /tmp/ringbroker-UID/NAME.sock; the directory is created with mode 0700.
  public static func defaultPath(name: String) -> String {
    let directory: String
    if let runtime = getenv("XDG_RUNTIME_DIR").map({ String(cString: $0) }), !runtime.isEmpty {
      directory = runtime + "/ringbroker"
    } else if getuid() == 0 {
      directory = "/run/ringbroker"
    } else {
      directory = "/tmp/ringbroker-\(getuid())"
    }
    mkdir(directory, 0o700)
    return directory + "/" + name + ".sock"
  }

  public init(
    path: String, parameters: ChannelParameters, firstID: Int,
    adopt: @escaping (AttachedWorker) -> Void
  ) throws(ChannelError) {
    let fd = rb_unix_listen(path, 0o600)
    guard fd >= 0 else { throw .system("control socket \(path)", errno: -fd) }
    self.path = path
    listenFd = fd
    self.parameters = parameters
    self.adopt = adopt
    nextID = firstID
  }

  deinit {
    close(listenFd)
    unlink(path)
  }

  public func start() throws {
    let thread = try JoinableThread(name: "control") { [self] in serve() }
    _ = thread  // lives until the process exits
  }

  private func serve() {
    while true {
      let connection = accept(listenFd, nil, nil)
      if connection < 0 {
        if errno == EINTR || errno == ECONNABORTED { continue }
        return
      }
      // Not inherited by workers the broker spawns later.
      _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
      handle(connection)
    }
  }

  private func handle(_ connection: Int32) {
    var pid: pid_t = 0
    var uid: uid_t = 0
    guard rb_peer_credentials(connection, &pid, &uid) == 0 else {
      close(connection)
      return
    }
    guard uid == getuid() else {
      reply(connection, "refused: uid \(uid) is not the broker's user (uid \(getuid()))")
      close(connection)
      log("control: refused an attach from pid \(pid), uid \(uid)")
      return
    }
    var request = [UInt8](repeating: 0, count: 64)
    var ignored: Int32 = -1
    let count = request.withUnsafeMutableBytes {
      rb_recv_fd(connection, $0.baseAddress, $0.count, &ignored)
    }
    if ignored >= 0 { close(ignored) }
    guard count > 0, String(decoding: request.prefix(count), as: UTF8.self).hasPrefix("attach")
    else {
      reply(connection, "refused: unknown request (expected 'attach')")
      close(connection)
      return
    }
    do {
      let id = nextID
      nextID += 1
      let segment = try ChannelSegment.create(name: "ringbroker-w\(id)", parameters: parameters)
      let text = Array("ok \(id)\n".utf8)
      let sent = text.withUnsafeBytes {
        rb_send_fd(connection, segment.fd, $0.baseAddress, $0.count)
      }
      guard sent == text.count else {
        close(connection)
        return
      }
      adopt(AttachedWorker(id: id, segment: segment, pid: pid, connection: connection))
    } catch {
      reply(connection, "refused: \(error)")
      close(connection)
    }
  }

  private func reply(_ connection: Int32, _ text: String) {
    let bytes = Array((text + "\n").utf8)
    _ = bytes.withUnsafeBytes { rb_send_fd(connection, -1, $0.baseAddress, $0.count) }
  }
}
