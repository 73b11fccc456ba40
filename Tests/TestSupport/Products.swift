import Foundation

/// Where the tests find what they run: the products of this package (built next to the test
/// runner, or at $RINGBROKER_BIN_DIR) and files of the repository (found from this file's
/// path).
public enum Products {
  /// The folders searched for a product, in order.
  static let directories: [URL] = {
    var directories: [URL] = []
    if let dir = ProcessInfo.processInfo.environment["RINGBROKER_BIN_DIR"] {
      directories.append(URL(fileURLWithPath: dir))
    }
    // The test runner lives in the products folder.
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
      directories.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
    }
    for bundle in Bundle.allBundles {
      directories.append(bundle.bundleURL.deletingLastPathComponent())
    }
    directories.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
    return directories
  }()

  /// A product of this package (tests assume `swift build --build-tests` ran).
  public static func url(_ name: String) throws -> URL {
    for directory in directories {
      let candidate = directory.appendingPathComponent(name)
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    throw TestError("\(name) not found in \(directories.map(\.path)); run swift build first")
  }

  /// The path of a product; where it is missing, the path it would have in the first folder
  /// searched (running it then fails with the file named).
  public static func path(_ name: String) -> String {
    (try? url(name).path) ?? directories[0].appendingPathComponent(name).path
  }

  /// The repository's root folder.
  public static let repository: String = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL.path

  /// workers/c-hello/hello-worker, built by `make -C workers/c-hello` (the test command does).
  public static let cWorker = repository + "/workers/c-hello/hello-worker"

  /// workers/lua/examples.
  public static let luaExamples = repository + "/workers/lua/examples"

  /// The test worker (Tests/Helpers/ringchannel-child) as a `--worker` command: /sleep/MS,
  /// /exit, /pid, /bytes/N, anything else "ok <path>".
  public static var testWorker: String { path("ringchannel-child") + " http" }

  /// A `--worker` command that starts the C worker the first time and exits with status 1 at
  /// every later start: a broker that came up fine, whose worker then crash-loops once killed.
  /// `marker` is a path the command creates; the caller removes it.
  public static func crashingAfterFirstStart(marker: String) -> String {
    // The broker runs a command as `exec COMMAND` in /bin/sh: the script needs a shell of its own.
    "sh -c \"if [ -e '\(marker)' ]; then exit 1; fi; touch '\(marker)'; exec '\(cWorker)'\""
  }
}
