// The C ABI of libringworker.so, declared in Sources/CRingABI/include/ringworker.h.
// rw_worker * is a retained Worker; rw_request * is the address of the slot's RequestRecord.
import CRingABI
import Glibc

private func fail(_ message: String) {
  rb_set_last_error(message)
}

private func worker(_ handle: UnsafeMutableRawPointer) -> Worker {
  Unmanaged<Worker>.fromOpaque(handle).takeUnretainedValue()
}

private func request(_ handle: UnsafeMutableRawPointer?) -> Request? {
  guard let handle else { return nil }
  return Request(record: handle.assumingMemoryBound(to: RequestRecord.self))
}

private func str(_ bytes: UnsafeRawBufferPointer) -> rw_str {
  rw_str(data: bytes.baseAddress?.assumingMemoryBound(to: CChar.self), length: bytes.count)
}

@_cdecl("rw_open")
public func exported_open() -> UnsafeMutableRawPointer? {
  do {
    return Unmanaged.passRetained(try Worker.fromEnvironment()).toOpaque()
  } catch {
    fail(error.description)
    return nil
  }
}

@_cdecl("rw_open_fd")
public func exported_open_fd(_ fd: Int32) -> UnsafeMutableRawPointer? {
  do {
    return Unmanaged.passRetained(try Worker(fd: fd)).toOpaque()
  } catch {
    fail(error.description)
    return nil
  }
}

@_cdecl("rw_attach")
public func exported_attach(_ path: UnsafePointer<CChar>) -> UnsafeMutableRawPointer? {
  do {
    return Unmanaged.passRetained(try Worker.attach(endpoint: String(cString: path))).toOpaque()
  } catch {
    fail(error.description)
    return nil
  }
}

@_cdecl("rw_last_error")
public func exported_last_error() -> UnsafePointer<CChar> { rb_last_error() }

@_cdecl("rw_close")
public func exported_close(_ handle: UnsafeMutableRawPointer?) {
  guard let handle else { return }
  Unmanaged<Worker>.fromOpaque(handle).release()
}

@_cdecl("rw_next")
public func exported_next(
  _ handle: UnsafeMutableRawPointer, _ timeoutMilliseconds: Int32,
  _ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>
) -> Int32 {
  switch worker(handle).next(timeoutMilliseconds: Int(timeoutMilliseconds)) {
  case .request(let request):
    out.pointee = UnsafeMutableRawPointer(request.record)
    return 1
  case .timeout:
    return 0
  case .exit(let reason):
    fail(reason)
    return -1
  }
}

@_cdecl("rw_method") public func exported_method(_ r: UnsafeMutableRawPointer?) -> rw_str {
  str(request(r)!.method)
}
@_cdecl("rw_target") public func exported_target(_ r: UnsafeMutableRawPointer?) -> rw_str {
  str(request(r)!.target)
}
@_cdecl("rw_path") public func exported_path(_ r: UnsafeMutableRawPointer?) -> rw_str {
  str(request(r)!.path)
}
@_cdecl("rw_query") public func exported_query(_ r: UnsafeMutableRawPointer?) -> rw_str {
  str(request(r)!.query)
}
@_cdecl("rw_body") public func exported_body(_ r: UnsafeMutableRawPointer?) -> rw_str {
  str(request(r)!.body)
}
@_cdecl("rw_http_version") public func exported_http_version(_ r: UnsafeMutableRawPointer?) -> Int32
{
  Int32(request(r)!.httpVersion)
}
@_cdecl("rw_header_count") public func exported_header_count(_ r: UnsafeMutableRawPointer?) -> Int {
  request(r)!.headerCount
}

@_cdecl("rw_header_at")
public func exported_header_at(
  _ r: UnsafeMutableRawPointer?, _ index: Int, _ name: UnsafeMutablePointer<rw_str>?,
  _ value: UnsafeMutablePointer<rw_str>?
) -> Int32 {
  guard let field = request(r)!.header(at: index) else { return -1 }
  name?.pointee = str(field.name)
  value?.pointee = str(field.value)
  return 0
}

@_cdecl("rw_header")
public func exported_header(
  _ r: UnsafeMutableRawPointer?, _ name: UnsafePointer<CChar>,
  _ value: UnsafeMutablePointer<rw_str>?
) -> Int32 {
  let nameBytes = UnsafeRawBufferPointer(start: name, count: strlen(name))
  guard let found = request(r)!.header(named: nameBytes) else { return -1 }
  value?.pointee = str(found)
  return 0
}

@_cdecl("rw_remote_addr") public func exported_remote_addr(_ r: UnsafeMutableRawPointer?) -> rw_str
{
  str(request(r)!.remoteAddressText)
}
@_cdecl("rw_remote_port") public func exported_remote_port(_ r: UnsafeMutableRawPointer?) -> Int32 {
  Int32(request(r)!.remotePort)
}
@_cdecl("rw_local_addr") public func exported_local_addr(_ r: UnsafeMutableRawPointer?) -> rw_str {
  str(request(r)!.localAddressText)
}
@_cdecl("rw_local_port") public func exported_local_port(_ r: UnsafeMutableRawPointer?) -> Int32 {
  Int32(request(r)!.localPort)
}
@_cdecl("rw_request_id") public func exported_request_id(_ r: UnsafeMutableRawPointer?) -> UInt64 {
  request(r)!.requestID
}
@_cdecl("rw_received_ns") public func exported_received_ns(_ r: UnsafeMutableRawPointer?) -> UInt64
{
  request(r)!.receivedAt
}
@_cdecl("rw_scheme") public func exported_scheme(_ r: UnsafeMutableRawPointer?) -> rw_str {
  str(request(r)!.schemeText)
}

private func reporting(_ body: () throws(ReplyError) -> Void) -> Int32 {
  do {
    try body()
    return 0
  } catch {
    fail(error.description)
    return -1
  }
}

@_cdecl("rw_reply_start")
public func exported_reply_start(_ r: UnsafeMutableRawPointer?, _ status: Int32) -> Int32 {
  reporting { () throws(ReplyError) in try request(r)!.reply.start(status: Int(status)) }
}

@_cdecl("rw_reply_header")
public func exported_reply_header(
  _ r: UnsafeMutableRawPointer?, _ name: UnsafePointer<CChar>, _ nameLength: Int,
  _ value: UnsafePointer<CChar>?, _ valueLength: Int
) -> Int32 {
  reporting { () throws(ReplyError) in
    try request(r)!.reply.addHeader(
      name: UnsafeRawBufferPointer(start: name, count: nameLength),
      value: UnsafeRawBufferPointer(start: value, count: valueLength))
  }
}

@_cdecl("rw_reply_capacity")
public func exported_reply_capacity(_ r: UnsafeMutableRawPointer?) -> Int {
  request(r)!.replyCapacity
}

@_cdecl("rw_reply_body")
public func exported_reply_body(
  _ r: UnsafeMutableRawPointer?, _ capacity: UnsafeMutablePointer<Int>?
)
  -> UnsafeMutableRawPointer?
{
  do {
    let body = try request(r)!.reply.body()
    capacity?.pointee = body.count
    return body.baseAddress
  } catch {
    fail(error.description)
    capacity?.pointee = 0
    return nil
  }
}

@_cdecl("rw_reply_send")
public func exported_reply_send(_ r: UnsafeMutableRawPointer?, _ bodyLength: Int) -> Int32 {
  reporting { () throws(ReplyError) in try request(r)!.reply.send(bodyLength: bodyLength) }
}

@_cdecl("rw_reply_abort")
public func exported_reply_abort(_ r: UnsafeMutableRawPointer?, _ status: Int32) -> Int32 {
  reporting { () throws(ReplyError) in try request(r)!.reply.abort(status: Int(status)) }
}

@_cdecl("rw_reply")
public func exported_reply(
  _ r: UnsafeMutableRawPointer?, _ status: Int32, _ contentType: UnsafePointer<CChar>?,
  _ body: UnsafeRawPointer?, _ bodyLength: Int
) -> Int32 {
  reporting { () throws(ReplyError) in
    try request(r)!.reply.send(
      status: Int(status), contentType: contentType.map { String(cString: $0) },
      body: UnsafeRawBufferPointer(start: body, count: bodyLength))
  }
}

@_cdecl("rw_reply_set_length")
public func exported_reply_set_length(_ r: UnsafeMutableRawPointer?, _ total: UInt64) -> Int32 {
  reporting { () throws(ReplyError) in try request(r)!.reply.setLength(total) }
}

@_cdecl("rw_reply_write")
public func exported_reply_write(
  _ r: UnsafeMutableRawPointer?, _ data: UnsafeRawPointer?, _ length: Int
) -> Int32 {
  reporting { () throws(ReplyError) in
    try request(r)!.reply.write(
      UnsafeRawBufferPointer(start: length > 0 ? data : nil, count: length))
  }
}

@_cdecl("rw_reply_end")
public func exported_reply_end(_ r: UnsafeMutableRawPointer?) -> Int32 {
  reporting { () throws(ReplyError) in try request(r)!.reply.end() }
}

@_cdecl("rw_body_is_streamed")
public func exported_body_is_streamed(_ r: UnsafeMutableRawPointer?) -> Int32 {
  request(r)!.bodyIsStreamed ? 1 : 0
}

@_cdecl("rw_body_read")
public func exported_body_read(
  _ r: UnsafeMutableRawPointer?, _ buffer: UnsafeMutableRawPointer?, _ capacity: Int
) -> Int {
  do {
    return try request(r)!.readBody(
      into: UnsafeMutableRawBufferPointer(start: buffer, count: buffer == nil ? 0 : capacity))
  } catch {
    fail(error.description)
    return -1
  }
}
