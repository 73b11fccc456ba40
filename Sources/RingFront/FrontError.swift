#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A failure the operator must read: one line, naming what failed and why.
public struct FrontError: Error, CustomStringConvertible {
  public var message: String

  public init(_ message: String) { self.message = message }

  public var description: String { message }

  /// "what: strerror(errno)", for failed system calls.
  public static func system(_ what: String, errno code: Int32) -> FrontError {
    FrontError("\(what): \(String(cString: strerror(code)))")
  }
}
