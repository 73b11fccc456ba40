/// Why a channel could not be created, attached or used. Each case reads as one line.
public enum ChannelError: Error, Equatable, CustomStringConvertible {
  case invalidParameters(String)
  case system(String, errno: Int32)
  case incompatible(String)
  case broken(String)

  public var description: String {
    switch self {
    case .invalidParameters(let why): return "invalid channel parameters: \(why)"
    case .system(let call, let code): return "\(call) failed: \(String(cString: strerror(code)))"
    case .incompatible(let why): return "incompatible channel: \(why)"
    case .broken(let why): return "channel broken: \(why)"
    }
  }
}

#if canImport(Glibc)
  import Glibc
#endif
