import Foundation
import TestSupport
import XCTest

/// The README's C worker, built in a folder outside the repository with exactly the README's
/// commands (pkg-config, then by hand), then served by a real broker.
final class CWorkerRecipeTests: XCTestCase {
  private let project = NSTemporaryDirectory() + "rbtest-my-worker-\(getpid())"

  override func tearDown() {
    try? FileManager.default.removeItem(atPath: project)
  }

  /// The README's fenced blocks, each with its language and text.
  private func readmeBlocks() throws -> [(language: String, text: String)] {
    let readme = try String(contentsOfFile: Products.repository + "/README.md", encoding: .utf8)
    var blocks: [(language: String, text: String)] = []
    var open: (language: String, lines: [Substring])?
    for line in readme.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix("```") {
        if let block = open {
          blocks.append((block.language, block.lines.joined(separator: "\n") + "\n"))
          open = nil
        } else {
          open = (String(line.dropFirst(3)), [])
        }
      } else {
        open?.lines.append(line)
      }
    }
    return blocks
  }

  /// This checkout's test build, where the README says `.build/release`.
  private var build: String {
    get throws { try Products.url("ringbroker").deletingLastPathComponent().path }
  }

  /// A shell block of the recipe, run in the project folder with the README's RINGBROKER and
  /// LIB set to this checkout and its test build (their lines in the block are replaced); its
  /// broker line is left out and returned as that broker's arguments.
  private func runRecipe(_ block: String) throws -> [String]? {
    var script = "cd '\(project)'\nRINGBROKER='\(Products.repository)'\nLIB='\(try build)'\n"
    var brokerArguments: [String]?
    for line in block.split(separator: "\n") {
      if line.hasPrefix("RINGBROKER=") || line.hasPrefix("LIB=") { continue }
      if line.hasPrefix("$LIB/ringbroker ") {
        brokerArguments = line.split(separator: " ").dropFirst().map(String.init)
        continue
      }
      script += line + "\n"
    }
    let result = try Spawn.run("/bin/sh", ["-ec", script], timeout: 120)
    XCTAssertEqual(result.status, 0, "\(script)\n\(result.stdout)\(result.stderr)")
    return brokerArguments
  }

  private func assertServesHello(_ arguments: [String], _ what: String) throws {
    let broker = try BrokerProcess(arguments, wrapper: ["/usr/bin/env", "-C", project])
    defer { XCTAssertEqual(broker.stop(), 0, what) }
    let response = try get(broker.port, "/")
    XCTAssertEqual(response.status, 200, what)
    XCTAssertEqual(response.bodyText, "hello world\n", what)
  }

  func testTheReadmesCWorkerBuildsOutsideTheRepositoryAndServes() throws {
    let blocks = try readmeBlocks()
    let source = try XCTUnwrap(
      blocks.first { $0.language == "c" && $0.text.hasPrefix("// my-worker.c\n") },
      "README has no C block starting with // my-worker.c")
    let recipes = blocks.filter {
      $0.language == "sh" && $0.text.contains("cc -O2 -o my-worker my-worker.c")
    }
    XCTAssertEqual(recipes.count, 2, "README: the pkg-config recipe and the one by hand")
    guard recipes.count == 2 else { return }
    try FileManager.default.createDirectory(atPath: project, withIntermediateDirectories: true)
    try source.text.write(toFile: project + "/my-worker.c", atomically: false, encoding: .utf8)

    // The README's one-time step, for the test build: the pkg-config file next to the library.
    let build = try self.build
    let pc = try Spawn.run(Products.repository + "/tools/ringworker-pc.sh", [build], timeout: 30)
    XCTAssertEqual(pc.status, 0, pc.stderr)
    XCTAssertEqual(pc.stdout, build + "/ringworker.pc\n")
    let version = try Spawn.run(
      "/usr/bin/env", ["PKG_CONFIG_PATH=\(build)", "pkg-config", "--modversion", "ringworker"])
    let brokerVersion = try Spawn.run(Products.path("ringbroker"), ["--version"]).stdout
    XCTAssertEqual(
      version.stdout.trimmingCharacters(in: .whitespacesAndNewlines),
      brokerVersion.split(separator: " ").dropFirst().first.map(String.init))

    let arguments = try XCTUnwrap(try runRecipe(recipes[0].text), "no broker line in the recipe")
    XCTAssertTrue(arguments.contains("./my-worker"), "\(arguments)")
    try assertServesHello(arguments, "built with pkg-config")

    try FileManager.default.removeItem(atPath: project + "/my-worker")
    _ = try runRecipe(recipes[1].text)
    XCTAssertTrue(FileManager.default.isExecutableFile(atPath: project + "/my-worker"))
    try assertServesHello(arguments, "built by hand")
  }
}
