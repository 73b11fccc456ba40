/// "HOST:PORT" as given on the command line: an IPv4 literal, a bracketed IPv6 literal, a host
/// name, or "*" / "" for every IPv4 interface. Port 0 asks the kernel for a free port.
/// "unix:PATH" names a unix stream socket instead (`unixPath`; host and port unused).
public struct ListenAddress: Equatable, CustomStringConvertible {
  public var host: String
  public var port: UInt16
  public var unixPath: String?

  public init(host: String, port: UInt16) {
    self.host = host
    self.port = port
  }

  /// A unix stream socket at `path`.
  public init(unixPath path: String) {
    host = ""
    port = 0
    unixPath = path
  }

  /// Nil when the text is neither HOST:PORT with a port in 0...65535 nor, with `allowUnix`,
  /// "unix:PATH" with an absolute or relative path that fits a socket address (107 bytes).
  public init?(parsing text: String, allowUnix: Bool = false) {
    if allowUnix, text.hasPrefix("unix:") {
      let path = String(text.dropFirst(5))
      guard !path.isEmpty, path.utf8.count <= 107, !path.utf8.contains(0) else { return nil }
      self.init(unixPath: path)
      return
    }
    guard let colon = text.lastIndex(of: ":") else { return nil }
    var host = String(text[..<colon])
    let portText = text[text.index(after: colon)...]
    guard !portText.isEmpty, portText.allSatisfy(\.isASCII), let port = UInt16(portText) else {
      return nil
    }
    if host.hasPrefix("[") {
      guard host.hasSuffix("]"), host.count > 2 else { return nil }
      host = String(host.dropFirst().dropLast())
    } else if host.contains(":") {
      return nil  // an IPv6 literal needs brackets, or the port is ambiguous
    }
    if host == "*" { host = "" }
    self.init(host: host, port: port)
  }

  public var description: String {
    if let unixPath { return "unix:\(unixPath)" }
    let shownHost = host.isEmpty ? "0.0.0.0" : host
    return shownHost.contains(":") ? "[\(shownHost)]:\(port)" : "\(shownHost):\(port)"
  }
}
