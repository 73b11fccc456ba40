/// "HOST:PORT" as given on the command line: an IPv4 literal, a bracketed IPv6 literal, a host
/// name, or "*" / "" for every IPv4 interface. Port 0 asks the kernel for a free port.
public struct ListenAddress: Equatable, CustomStringConvertible {
  public var host: String
  public var port: UInt16

  public init(host: String, port: UInt16) {
    self.host = host
    self.port = port
  }

  /// Nil when the text is not HOST:PORT with a port in 0...65535.
  public init?(parsing text: String) {
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
    self.host = host
    self.port = port
  }

  public var description: String {
    let shownHost = host.isEmpty ? "0.0.0.0" : host
    return shownHost.contains(":") ? "[\(shownHost)]:\(port)" : "\(shownHost):\(port)"
  }
}
