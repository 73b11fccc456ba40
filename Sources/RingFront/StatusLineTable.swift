import HTTP1

/// "HTTP/1.1 200 OK\r\n" for every status code, built on first use and then only copied, so a
/// reply costs neither a String nor a lookup in HTTP1's reason table.
struct StatusLineTable {
  private static let slotSize = 64
  private static let codes = 100..<1000
  private let storage: UnsafeMutableRawPointer
  private var lengths: [UInt8]

  init() {
    storage = .allocate(byteCount: Self.codes.count * Self.slotSize, alignment: 16)
    lengths = Array(repeating: 0, count: Self.codes.count)
  }

  /// Copies the status line to `destination` and returns its length. Codes outside 100...999
  /// are the caller's bug; they are written as 500.
  mutating func write(_ status: Int, to destination: UnsafeMutableRawPointer) -> Int {
    let code = Self.codes.contains(status) ? status : 500
    let slot = code - Self.codes.lowerBound
    if lengths[slot] == 0 { build(code, slot: slot) }
    let length = Int(lengths[slot])
    destination.copyMemory(from: storage + slot * Self.slotSize, byteCount: length)
    return length
  }

  private mutating func build(_ code: Int, slot: Int) {
    var reason = Array(HTTPStatus.reasonPhrase(code).utf8.filter { $0 >= 0x20 && $0 < 0x7F })
    let fixed = "HTTP/1.1 000 \r\n".utf8.count
    if reason.count > Self.slotSize - fixed {
      reason.removeLast(reason.count - (Self.slotSize - fixed))
    }
    let line = Array("HTTP/1.1 \(code) ".utf8) + reason + [0x0D, 0x0A]
    line.withUnsafeBytes {
      (storage + slot * Self.slotSize).copyMemory(from: $0.baseAddress!, byteCount: $0.count)
    }
    lengths[slot] = UInt8(line.count)
  }
}
