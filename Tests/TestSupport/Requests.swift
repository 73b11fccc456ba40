/// Request texts the tests send, spelled out byte for byte.
public enum Requests {
  public static func get(_ path: String = "/", headers: [String] = []) -> String {
    "GET \(path) HTTP/1.1\r\nHost: test\r\n" + headers.map { $0 + "\r\n" }.joined() + "\r\n"
  }

  public static func post(_ path: String = "/", body: String, headers: [String] = []) -> String {
    "POST \(path) HTTP/1.1\r\nHost: test\r\nContent-Length: \(body.utf8.count)\r\n"
      + headers.map { $0 + "\r\n" }.joined() + "\r\n" + body
  }

  /// `chunks` as a chunked body, with the terminating zero chunk.
  public static func chunked(_ chunks: [String]) -> String {
    chunks.map { String($0.utf8.count, radix: 16) + "\r\n" + $0 + "\r\n" }.joined() + "0\r\n\r\n"
  }
}
