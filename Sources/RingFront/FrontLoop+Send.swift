import CURing
import Glibc

extension FrontLoop {
  /// Sends what is queued on the connection in one send (writev-style: head chunks, header
  /// blocks and bodies straight from their memory; a plain send when that is one buffer). One send in flight per connection keeps the
  /// replies in order; whatever queues meanwhile goes out with the next one.
  func flush(_ connection: Connection) {
    guard connection.sendOperation == nil, !connection.replies.isEmpty, connection.fd >= 0,
      connection.lifecycle != .aborted
    else { return }
    let index = sendOperations.allocate(connection: connection.index)
    let iovecs = sendOperations[index].iovecs
    var used = 0
    var bodyBytes = 0
    for reply in connection.replies where used < SendOperation.maxIovecs {
      used += reply.writeUnsent(to: iovecs + used, room: SendOperation.maxIovecs - used)
      bodyBytes += reply.unsentBodyBytes
    }
    var length = 0
    for i in 0..<used { length += iovecs[i].iov_len }
    let message = sendOperations[index].message
    message.pointee = msghdr()
    message.pointee.msg_iov = iovecs
    message.pointee.msg_iovlen = used

    let zeroCopy =
      zeroCopyEnabled && connection.mayZeroCopy && bodyBytes >= config.zeroCopyThreshold
    let sqe = ring.nextSQE()
    // MSG_WAITALL: the kernel retries a short send itself instead of completing early.
    let flags = UInt32(MSG_NOSIGNAL | MSG_WAITALL)
    if zeroCopy {
      io_uring_prep_sendmsg_zc(sqe, connection.fd, message, flags)
      connection.zeroCopyOperations.append(index)
      stats.pointee.zero_copy_sends &+= 1
    } else if used == 1 && iovecs[0].iov_len <= Int(Int32.max) {
      // One buffer (say, a reply whose body was copied after its head): a plain send, which
      // spares the kernel copying in a msghdr and an iovec array. Its length is 32 bits.
      io_uring_prep_send(sqe, connection.fd, iovecs[0].iov_base, iovecs[0].iov_len, Int32(flags))
      stats.pointee.copy_sends &+= 1
    } else {
      io_uring_prep_sendmsg(sqe, connection.fd, message, flags)
      stats.pointee.copy_sends &+= 1
    }
    sqe.pointee.user_data = UserData.encode(.send, UInt64(index))
    sendOperations[index].length = length
    sendOperations[index].zeroCopy = zeroCopy
    connection.sendOperation = index
    connection.lastSendProgress = now
  }

  func sendCompleted(_ index: UInt32, result: Int32, flags: UInt32) {
    let connection = connections[Int(sendOperations[index].connection)]
    if flags & IORING_CQE_F_NOTIF != 0 {
      // The kernel no longer references the pages of a zero-copy send.
      sendOperations[index].notified = true
      releaseNotifiedZeroCopy(connection)
      finishClosingIfPossible(connection)
      return
    }
    let zeroCopy = sendOperations[index].zeroCopy
    connection.sendOperation = nil
    connection.lastSendProgress = now
    connection.lastActivity = now
    sendOperations[index].completed = true
    if zeroCopy && flags & IORING_CQE_F_MORE == 0 { sendOperations[index].notified = true }

    if result > 0 {
      advanceReplies(connection, by: Int(result))
    } else if result == -EOPNOTSUPP && zeroCopy {
      zeroCopyEnabled = false  // this socket type or kernel cannot: copy from now on
    } else if result != -EINTR && result != -EAGAIN {
      abort(connection)
    }

    if zeroCopy {
      releaseNotifiedZeroCopy(connection)
    } else {
      sendOperations.free(index)
    }
    if connection.lifecycle == .aborted {
      finishClosingIfPossible(connection)
    } else {
      markReady(connection)
    }
  }

  /// Accounts `count` bytes the kernel took: finished replies are retired, a partial one keeps
  /// its progress for the next send.
  func advanceReplies(_ connection: Connection, by count: Int) {
    stats.pointee.bytes_sent &+= UInt64(count)
    var remaining = count
    var finished = 0
    while finished < connection.replies.count {
      let left = connection.replies[finished].total - connection.replies[finished].sent
      if remaining < left {
        connection.replies[finished].sent += remaining
        break
      }
      remaining -= left
      finished += 1
    }
    for i in 0..<finished { retire(connection.replies[i].release, on: connection) }
    connection.replies.removeFirst(finished)
  }

  /// Releases a reply's memory now, or, while a zero-copy send of this connection may still
  /// reference pages, once every such send issued so far was notified.
  func retire(_ item: ReleaseItem, on connection: Connection) {
    if let latest = connection.zeroCopyOperations.last {
      sendOperations[latest].deferred.append(item)
    } else {
      releaseNow(item)
    }
  }

  func releaseNow(_ item: ReleaseItem) {
    if let storage = item.storage {
      if item.storageIsPooled { headChunks.give(storage) } else { free(storage) }
    }
    if let token = item.token { handler.released(token: token) }
  }

  /// Zero-copy notifications may arrive out of order; memory is released strictly in issue
  /// order, when every earlier zero-copy send of the connection is done as well.
  func releaseNotifiedZeroCopy(_ connection: Connection) {
    while let first = connection.zeroCopyOperations.first, sendOperations[first].completed,
      sendOperations[first].notified
    {
      connection.zeroCopyOperations.removeFirst()
      var items: [ReleaseItem] = []
      sendOperations.takeDeferred(first, into: &items)
      sendOperations.free(first)
      for item in items { releaseNow(item) }
    }
  }
}
