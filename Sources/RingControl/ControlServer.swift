import BrokerLog
import CRingABI
import Glibc
import RingChannel
import RingFront

/// The control socket: a unix socket (mode 0600, peer uid checked) where a worker started by
/// hand asks to be attached. It gets a new channel's memfd over SCM_RIGHTS; the channel is
/// handed to a front thread's dispatcher, which serves it until the worker exits. Control
/// plane only: one plain thread, blocking calls, each connection under a deadline.
public final class ControlServer {
  public let path: String
  private let listenFd: Int32
  private let parameters: ChannelParameters
  private let adopt: (AttachedWorker) -> Void
  private var nextID: Int
  private let socketIdentity: (device: dev_t, inode: ino_t)
  private var closed = false

  /// A worker that attached: its channel, its pid, and the connection kept open for its life.
  public struct AttachedWorker {
    public var id: Int
    public var segment: ChannelSegment
    public var pid: pid_t
    public var connection: Int32
  }

  /// How long one control connection may take to say what it wants: the control thread
  /// serves connections one at a time, so a silent one must not hold up the next attach.
  static let connectionDeadlineSeconds = 2

  /// The default path: $XDG_RUNTIME_DIR/ringbroker/NAME.sock, /run/ringbroker/NAME.sock for
  /// root, else /tmp/ringbroker-UID/NAME.sock; where the first choice's parent does not exist
  /// (a container without /run, a stale XDG_RUNTIME_DIR), the next one. The directory is
  /// created with mode 0700 and refused (like ssh-agent and tmux do) unless it is this user's
  /// and writable by nobody else: whoever can write there could replace the socket and
  /// receive workers' attaches. A refused directory is an error, never a reason to fall back.
  public static func defaultPath(name: String) throws(FrontError) -> String {
    var candidates: [String] = []
    if let runtime = getenv("XDG_RUNTIME_DIR").map({ String(cString: $0) }), !runtime.isEmpty {
      candidates.append(runtime + "/ringbroker")
    }
    if getuid() == 0 { candidates.append("/run/ringbroker") }
    candidates.append("/tmp/ringbroker-\(getuid())")
    for (index, directory) in candidates.enumerated() {
      if mkdir(directory, 0o700) != 0 && errno == ENOENT && index + 1 < candidates.count {
        continue
      }
      try requirePrivateDirectory(directory)
      return directory + "/" + name + ".sock"
    }
    preconditionFailure("the last candidate never falls through")
  }

  private static func requirePrivateDirectory(_ directory: String) throws(FrontError) {
    var info = stat()
    guard lstat(directory, &info) == 0 else {
      throw .system("control socket directory \(directory)", errno: errno)
    }
    let advice = "remove it, or give --control PATH"
    guard info.st_mode & S_IFMT == S_IFDIR else {
      throw FrontError("control socket directory \(directory) is not a directory; \(advice)")
    }
    guard info.st_uid == getuid() else {
      throw FrontError(
        "control socket directory \(directory) belongs to uid \(info.st_uid), not to this user "
          + "(uid \(getuid())); \(advice)")
    }
    guard info.st_mode & 0o022 == 0 else {
      throw FrontError(
        "control socket directory \(directory) is writable by other users (mode "
          + "\(String(info.st_mode & 0o777, radix: 8))); \(advice)")
    }
  }

  /// Binds the socket (nothing is served before `start`). Refuses a path where a live broker
  /// already listens: the second broker of a name gets its own --name or --control.
  public init(
    path: String, parameters: ChannelParameters, firstID: Int,
    adopt: @escaping (AttachedWorker) -> Void
  ) throws(FrontError) {
    let fd = rb_unix_listen(path, 0o600)
    guard fd >= 0 else { throw Self.pathError(-fd, path: path) }
    var info = stat()
    _ = fstatat(AT_FDCWD, path, &info, AT_SYMLINK_NOFOLLOW)
    self.path = path
    socketIdentity = (info.st_dev, info.st_ino)
    listenFd = fd
    self.parameters = parameters
    self.adopt = adopt
    nextID = firstID
  }

  /// What `init` would refuse at `path`, found without binding or removing anything (for
  /// `ringbroker -t`): a live broker's socket, a file that is no socket, a directory that is
  /// missing or not writable. A stale socket passes: `init` replaces it.
  public static func checkPath(_ path: String) throws(FrontError) {
    let found = rb_unix_check_path(path)
    if found < 0 { throw pathError(-found, path: path) }
    let directory =
      path.lastIndex(of: "/").map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
    var info = stat()
    guard stat(directory, &info) == 0 else {
      throw .system("control socket directory \(directory)", errno: errno)
    }
    guard info.st_mode & S_IFMT == S_IFDIR else {
      throw FrontError("control socket directory \(directory) is not a directory")
    }
    guard access(directory, W_OK | X_OK) == 0 else {
      throw .system("control socket directory \(directory)", errno: errno)
    }
  }

  /// Why the socket cannot be at `path`, from the errno `rb_unix_listen` or
  /// `rb_unix_check_path` returned.
  private static func pathError(_ code: Int32, path: String) -> FrontError {
    switch code {
    case EADDRINUSE:
      return FrontError(
        "control socket \(path) is in use by a running broker; give this one its own --name or --control"
      )
    case EEXIST:
      return FrontError("control socket path \(path) exists and is not a socket")
    default:
      return .system("control socket \(path)", errno: code)
    }
  }

  deinit {
    stop()
    close(listenFd)
  }

  /// Stops serving and removes the socket file, if it is still this server's (a broker that
  /// took over a stale path later must keep its own).
  public func stop() {
    guard !closed else { return }
    closed = true
    // shutdown wakes the control thread's accept; the descriptor stays valid for it.
    shutdown(listenFd, Int32(SHUT_RDWR))
    var info = stat()
    if fstatat(AT_FDCWD, path, &info, AT_SYMLINK_NOFOLLOW) == 0,
      info.st_dev == socketIdentity.device, info.st_ino == socketIdentity.inode
    {
      unlink(path)
    }
  }

  public func start() throws {
    let thread = try JoinableThread(name: "control") { [self] in serve() }
    _ = thread  // lives until the process exits
  }

  private func serve() {
    while true {
      let connection = accept(listenFd, nil, nil)
      if connection < 0 {
        if (errno == EINTR || errno == ECONNABORTED) && !closed { continue }
        return
      }
      // Not inherited by workers the broker spawns later.
      _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
      var deadline = timeval(tv_sec: Self.connectionDeadlineSeconds, tv_usec: 0)
      for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
        setsockopt(
          connection, SOL_SOCKET, option, &deadline, socklen_t(MemoryLayout<timeval>.size))
      }
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
    // The request is read before any answer, refusals included: closing with it unread would
    // reset the connection and the peer would never see why it was refused.
    var request = [UInt8](repeating: 0, count: 64)
    var ignored: Int32 = -1
    let count = request.withUnsafeMutableBytes {
      rb_recv_fd(connection, $0.baseAddress, $0.count, &ignored)
    }
    if ignored >= 0 { close(ignored) }
    guard uid == getuid() else {
      reply(connection, "refused: uid \(uid) is not the broker's user (uid \(getuid()))")
      close(connection)
      Log.warning("control: refused an attach from pid \(pid), uid \(uid)")
      return
    }
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
