/// A failure in test support code, with enough context to debug it from the test log.
public struct TestError: Error, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}
