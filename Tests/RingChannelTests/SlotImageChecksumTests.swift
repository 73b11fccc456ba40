import CRingABI
import RingChannel
import XCTest

final class SlotImageChecksumTests: XCTestCase {
  private func writeRequest(
    into slot: UnsafeMutableRawBufferPointer, checksum: SlotImageChecksum
  ) -> RequestSlotWriter.Written {
    let raw = Array("POST /t?q=1 HTTP/1.1\r\nHost: test\r\n\r\n".utf8)
    let body = Array("the body".utf8)
    let parts = RequestSlotWriter.Parts(
      method: 0..<4, target: 5..<11, path: 5..<7, query: 8..<11, httpVersion: 11, flags: 0)
    return raw.withUnsafeBytes { rawHead in
      body.withUnsafeBytes {
        RequestSlotWriter.write(
          into: slot, rawHead: rawHead, parts: parts, headers: [(name: 22..<26, value: 28..<32)],
          body: $0, requestID: 7, origin: testOrigin(), checksum: checksum)!
      }
    }
  }

  func testTheWritersChecksumIsThatOfTheImageItWrote() {
    let checksum = SlotImageChecksum()
    let slot = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
    defer { slot.deallocate() }
    let written = writeRequest(into: slot, checksum: checksum)
    let image = UnsafeMutableRawBufferPointer(rebasing: slot[0..<written.length])
    XCTAssertEqual(written.checksum, checksum.of(UnsafeRawBufferPointer(image)))
    // Any change to any byte changes it.
    for index in stride(from: 0, to: written.length, by: 7) {
      image[index] ^= 0x20
      XCTAssertNotEqual(checksum.of(UnsafeRawBufferPointer(image)), written.checksum, "\(index)")
      image[index] ^= 0x20
    }
  }

  func testEachChecksumHasItsOwnKey() {
    let bytes = Array("GET / HTTP/1.1\r\n\r\n".utf8)
    let first = bytes.withUnsafeBytes { SlotImageChecksum().of($0) }
    let second = bytes.withUnsafeBytes { SlotImageChecksum().of($0) }
    XCTAssertNotEqual(first, second)
  }
}
