import XCTest

@testable import HTTP1

final class ChunkedDecoderTests: XCTestCase {
  static let body = Array(
    "5\r\nhello\r\n1;name=value;q=\"x y\"\r\n \r\nA\r\n0123456789\r\n00a \t;ext\r\nabcdefghij\r\n0\r\nX-Sum: abc\r\nX-Empty:\r\n\r\n"
      .utf8)

  func testDecodesWholeBody() {
    let r = decodeChunked(Self.body)
    XCTAssertNil(r.error)
    XCTAssertTrue(r.complete)
    XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "hello 0123456789abcdefghij")
    XCTAssertEqual(r.consumed, Self.body.count)
  }

  func testSplitAtEveryPosition() {
    for cut in 0...Self.body.count {
      let r = decodeChunked(Self.body, cuts: [cut])
      XCTAssertNil(r.error, "cut at \(cut)")
      XCTAssertTrue(r.complete, "cut at \(cut)")
      XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "hello 0123456789abcdefghij")
      XCTAssertEqual(r.consumed, Self.body.count)
    }
    for a in stride(from: 0, to: Self.body.count, by: 3) {
      for b in stride(from: a, to: Self.body.count, by: 5) {
        let r = decodeChunked(Self.body, cuts: [a, b])
        XCTAssertTrue(r.complete)
        XCTAssertEqual(r.body.count, 26)
      }
    }
  }

  func testByteByByte() {
    let r = decodeChunked(Self.body, cuts: Array(1..<Self.body.count))
    XCTAssertTrue(r.complete)
    XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "hello 0123456789abcdefghij")
  }

  func testStopsAfterFinalCRLF() {
    let next = Array("GET / HTTP/1.1\r\n".utf8)
    let r = decodeChunked(Array("3\r\nabc\r\n0\r\n\r\n".utf8) + next)
    XCTAssertTrue(r.complete)
    XCTAssertEqual(r.consumed, 13)
    var decoder = ChunkedDecoder(maxBodyLength: 100)
    let input = Array("0\r\n\r\nrest".utf8)
    XCTAssertEqual(try input.withUnsafeBytes { try decoder.decode($0) { _ in } }, 5)
    XCTAssertEqual(
      try input.withUnsafeBytes { try decoder.decode($0) { _ in } }, 0, "nothing after completion")
  }

  func testIncompleteConsumesEverything() {
    let input = Array("5\r\nhel".utf8)
    let r = decodeChunked(input)
    XCTAssertNil(r.error)
    XCTAssertFalse(r.complete)
    XCTAssertEqual(r.consumed, input.count)
    XCTAssertEqual(r.body, Array("hel".utf8))
  }

  func testHexSizes() {
    XCTAssertEqual(decodeChunked(Array("a\r\n0123456789\r\n0\r\n\r\n".utf8)).body.count, 10)
    XCTAssertEqual(decodeChunked(Array("0000A\r\n0123456789\r\n0\r\n\r\n".utf8)).body.count, 10)
    XCTAssertTrue(decodeChunked(Array("000\r\n\r\n".utf8)).complete)
  }

  private func status(_ text: String, maxBodyLength: Int = 1 << 20, maxTrailerLength: Int = 32768)
    -> Int?
  {
    decodeChunked(
      Array(text.utf8), maxBodyLength: maxBodyLength, maxTrailerLength: maxTrailerLength
    ).error?.status
  }

  func testBadChunkSize() {
    XCTAssertEqual(status("g\r\n"), 400)
    XCTAssertEqual(status("\r\n"), 400)
    XCTAssertEqual(status("-1\r\n"), 400)
    XCTAssertEqual(status("+1\r\n"), 400)
    XCTAssertEqual(status("0x5\r\n"), 400)
    XCTAssertEqual(status(" 5\r\n"), 400)
    XCTAssertEqual(status("5 \r\nhello\r\n"), 400, "whitespace only before ';'")
    XCTAssertEqual(status("5 x\r\n"), 400)
    XCTAssertEqual(status("5\nhello\r\n"), 400)
    XCTAssertEqual(status("5\rhello\r\n"), 400)
  }

  func testChunkSizeOverflow() {
    XCTAssertEqual(status("FFFFFFFFFFFFFFFFF\r\n", maxBodyLength: .max), 400)
    XCTAssertEqual(status("10000000000000000\r\n", maxBodyLength: .max), 400)
    XCTAssertEqual(status("8000000000000000\r\n", maxBodyLength: .max), 400)
    XCTAssertNil(status("7FFFFFFFFFFFFFFF\r\n", maxBodyLength: .max))
  }

  func testChunkExtensions() {
    XCTAssertEqual(
      decodeChunked(Array("3;a\r\nabc\r\n0;last=\"yes\"\r\n\r\n".utf8)).body, Array("abc".utf8))
    XCTAssertEqual(
      decodeChunked(Array("3 ; a = b\r\nabc\r\n0\r\n\r\n".utf8)).body, Array("abc".utf8))
    XCTAssertEqual(status("3;a\u{01}\r\nabc\r\n0\r\n\r\n"), 400)
    XCTAssertEqual(status("3;a\nabc\r\n"), 400)
    XCTAssertEqual(status("3;" + String(repeating: "x", count: 5000) + "\r\n"), 400)
  }

  func testDataMustBeFollowedByCRLF() {
    XCTAssertEqual(status("5\r\nhelloX\r\n0\r\n\r\n"), 400)
    XCTAssertEqual(status("5\r\nhello\rX0\r\n\r\n"), 400)
    XCTAssertEqual(status("5\r\nhello\n0\r\n\r\n"), 400)
    XCTAssertEqual(status("5\r\nhello world\r\n"), 400)
  }

  func testTrailers() {
    let r = decodeChunked(Array("1\r\nx\r\n0\r\nA: 1\r\nB:\t2 \r\n\r\n".utf8))
    XCTAssertTrue(r.complete)
    XCTAssertEqual(r.body, Array("x".utf8), "trailers are discarded")
    XCTAssertEqual(status("0\r\nA: 1\r\n b\r\n\r\n"), 400, "obs-fold")
    XCTAssertEqual(status("0\r\nA : 1\r\n\r\n"), 400)
    XCTAssertEqual(status("0\r\nNoColon\r\n\r\n"), 400)
    XCTAssertEqual(status("0\r\nA: \u{01}\r\n\r\n"), 400)
    XCTAssertEqual(status("0\r\nA: 1\n\r\n"), 400)
    XCTAssertEqual(status("0\r\n\n"), 400)
    XCTAssertEqual(status("0\r\n\rX"), 400)
  }

  func testTrailerLimit431() {
    let trailer = "0\r\nX: " + String(repeating: "v", count: 100) + "\r\n\r\n"
    XCTAssertNil(status(trailer, maxTrailerLength: 200))
    XCTAssertEqual(status(trailer, maxTrailerLength: 50), 431)
    let limits = HTTPLimits(maxHeadLength: 50)
    var decoder = ChunkedDecoder(limits: limits)
    XCTAssertThrowsError(
      try Array(trailer.utf8).withUnsafeBytes { try decoder.decode($0) { _ in } })
  }

  func testBodyLimit413() {
    XCTAssertNil(status("a\r\n0123456789\r\n0\r\n\r\n", maxBodyLength: 10))
    XCTAssertEqual(status("b\r\n", maxBodyLength: 10), 413, "refused before any data arrives")
    XCTAssertEqual(status("6\r\n012345\r\n5\r\n", maxBodyLength: 10), 413, "the sum counts")
    XCTAssertEqual(status("FFFFFFFF;x", maxBodyLength: 10), 413)
  }

  func testErrorsAreSticky() {
    var decoder = ChunkedDecoder(maxBodyLength: 100)
    let bad = Array("zz".utf8)
    let good = Array("0\r\n\r\n".utf8)
    XCTAssertThrowsError(try bad.withUnsafeBytes { try decoder.decode($0) { _ in } })
    XCTAssertThrowsError(try good.withUnsafeBytes { try decoder.decode($0) { _ in } }) { error in
      XCTAssertEqual((error as? HTTPError)?.status, 400)
    }
    XCTAssertFalse(decoder.isComplete)
  }
}
