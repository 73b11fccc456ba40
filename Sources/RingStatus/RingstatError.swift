/// A failure ringstat reports as one line on stderr before exiting with status 1.
public struct RingstatError: Error, CustomStringConvertible {
  public let description: String

  public init(_ description: String) { self.description = description }
}
