import CRingABI

/// The version every RingBroker tool reports with `--version`: the one place it is written
/// (tools/ringworker-pc.sh reads it from here for the pkg-config file).
public enum ToolVersion {
  public static let number = "0.5.0"

  /// "TOOL 0.5.0 (channel ABI 4)": the release, and the channel ABI (RB_ABI_VERSION) a broker
  /// and a worker library must share to work together.
  public static func line(_ tool: String) -> String {
    "\(tool) \(number) (channel ABI \(RB_ABI_VERSION))"
  }
}
