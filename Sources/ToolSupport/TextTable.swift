/// Left-aligned first column, right-aligned numbers: columns sized to their widest cell
/// (ringstat's views, ringbench's results).
public struct TextTable {
  public var header: [String]
  public var rows: [[String]] = []
  /// Columns (by index) aligned left; the rest align right.
  public var leftAligned: Set<Int> = [0]

  public init(header: [String], leftAligned: Set<Int> = [0]) {
    self.header = header
    self.leftAligned = leftAligned
  }

  public func render() -> String {
    var widths = header.map(\.count)
    for row in rows {
      for (index, cell) in row.enumerated() where index < widths.count {
        widths[index] = max(widths[index], cell.count)
      }
    }
    return ([header] + rows).map { row in
      row.enumerated().map { index, cell in
        let padding = String(repeating: " ", count: max(0, widths[index] - cell.count))
        return leftAligned.contains(index) ? cell + padding : padding + cell
      }.joined(separator: "  ").trimmingTrailingSpaces()
    }.joined(separator: "\n") + "\n"
  }
}

extension String {
  fileprivate func trimmingTrailingSpaces() -> String {
    var end = endIndex
    while end > startIndex, self[index(before: end)] == " " { end = index(before: end) }
    return String(self[..<end])
  }
}
