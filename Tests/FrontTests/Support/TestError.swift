/// A failure in test support code, with enough context to debug it from the test log.
struct TestError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
