import CRingABI
import CURing
import Glibc
import RingChannel

extension FrontLoop {
  /// One multishot accept serves every new connection until it is cancelled or fails.
  func armAccept() {
    guard listenFd >= 0, !isDraining, !acceptArmed else { return }
    let sqe = ring.nextSQE()
    io_uring_prep_multishot_accept(sqe, listenFd, nil, nil, Int32(SOCK_CLOEXEC.rawValue))
    sqe.pointee.user_data = UserData.encode(.accept, 0)
    acceptArmed = true
    acceptRetryAt = 0
  }

  func acceptCompleted(result: Int32, flags: UInt32) {
    if flags & IORING_CQE_F_MORE == 0 {
      acceptArmed = false
      if result >= 0 {
        armAccept()
      } else if result != -ECANCELED && !isDraining {
        // Out of descriptors or memory: retry a little later instead of spinning on the error.
        acceptRetryAt = now + Self.acceptRetryDelay
      }
    }
    guard result >= 0 else { return }
    let fd = result
    guard !isDraining, liveConnections < config.maxConnections || reclaimIdleConnection() else {
      close(fd)
      stats.pointee.connections_rejected &+= 1
      return
    }
    // Both ends of the connection, once: every request of it carries them (RequestOrigin), and
    // nothing on the request path needs a syscall for them. A client that already reset the
    // connection has no peer address left: there is nobody to serve.
    // A unix socket's clients have no IP endpoints: theirs are all zero.
    guard let remote = isUnixListener ? rb_endpoint() : rb_endpoint(socket: fd, peer: true),
      let local = isUnixListener
        ? rb_endpoint()
        : listenerEndpoint
          ?? rb_endpoint(socket: fd, peer: false)
    else {
      close(fd)
      return
    }
    stats.pointee.connections_accepted &+= 1
    // Replies go out in one sendmsg each; Nagle would only delay the rare split ones.
    ListenSocket.setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
    let connection = allocateConnection()
    connection.fd = fd
    connection.remote = remote
    connection.local = local
    connection.logCapture?.noteClient(remote)
    connection.lifecycle = .open
    connection.requestStartedAt = now
    connection.lastActivity = now
    // Zero-copy only pays for remote clients (zeroCopyEnabled is false on a loopback listener).
    connection.mayZeroCopy =
      zeroCopyEnabled
      && (config.zeroCopyForLocalClients || !PeerLocality.isLocal(remote: remote, local: local))
    armReceive(connection)
    rearmTimer(connection)
  }

  /// At the connection limit: closes the idle connection (open, nothing being read, handled or
  /// sent) that was active least recently, so that a new client is served instead of refused
  /// while keep-alive connections sit unused, as nginx reuses its keep-alive connections. False
  /// when every connection has work in progress.
  ///
  /// The closed connection's slot is free only once the kernel hands back its receive, so the
  /// new client gets another slot meanwhile. At most `maxConnectionsClosing` connections may
  /// be closing when one is reclaimed: slots stay within maxConnections + that many, which is
  /// what `deadlines` holds. The linear scan runs only at the limit, and after a scan that
  /// found nothing to close not again for `reclaimRetryInterval`: a connect flood at the limit
  /// must not make the loop walk every connection for every accept.
  func reclaimIdleConnection() -> Bool {
    guard now &- lastFruitlessReclaim >= Self.reclaimRetryInterval else { return false }
    var oldest: Connection?
    var closing = 0
    for connection in connections {
      if connection.lifecycle == .aborted { closing += 1 }
      guard connection.isIdle else { continue }
      if oldest == nil || connection.lastActivity < oldest!.lastActivity { oldest = connection }
    }
    guard let oldest, closing < Self.maxConnectionsClosing else {
      lastFruitlessReclaim = now
      return false
    }
    stats.pointee.idle_reclaimed &+= 1
    abort(oldest)
    return true
  }

  /// Closing connections allowed when an idle one is reclaimed (see reclaimIdleConnection).
  /// Their slots come back within a loop iteration; a burst of new clients beyond this many
  /// per iteration is refused, as without reclaiming.
  public static let maxConnectionsClosing = 16
  static let reclaimRetryInterval: UInt64 = 10_000_000

  func allocateConnection() -> Connection {
    liveConnections += 1
    if let index = freeSlots.popLast() { return connections[Int(index)] }
    let connection = Connection(
      index: UInt32(connections.count), limits: config.limits,
      capturesForAccessLog: accessLog != nil)
    connection.reader.wholeRequestLimit = handler.wholeRequestLimit
    connections.append(connection)
    return connection
  }

  /// Stops accepting: the other threads' sockets (SO_REUSEPORT) close too, so the port refuses
  /// new connections while this loop drains.
  func closeListener() {
    guard listenFd >= 0 else { return }
    if acceptArmed {
      let sqe = ring.nextSQE()
      io_uring_prep_cancel64(sqe, UserData.encode(.accept, 0), 0)
      sqe.pointee.user_data = UserData.encode(.ignored, 0)
    }
    close(listenFd)
    listenFd = -1
  }

  static let acceptRetryDelay: UInt64 = 100_000_000
}
