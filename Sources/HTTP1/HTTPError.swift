/// A request the front must refuse. The connection is closed after sending it.
public struct HTTPError: Error, Equatable {
  /// 400, 413, 414, 417, 431, 501 or 505.
  public var status: Int
  /// Short and human readable, e.g. "conflicting Content-Length". Always a string literal
  /// in this module, so building an error never allocates.
  public var reason: String

  public init(status: Int, reason: String) {
    self.status = status
    self.reason = reason
  }

  static func badRequest(_ reason: String) -> HTTPError { HTTPError(status: 400, reason: reason) }
}
