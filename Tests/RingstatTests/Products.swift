import Foundation

/// Executables of this package live next to the test runner: the products folder is the
/// directory of /proc/self/exe.
enum Products {
  static let directory: URL = {
    let exe =
      (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
      ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: exe).deletingLastPathComponent()
  }()

  static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
}

struct TestError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
