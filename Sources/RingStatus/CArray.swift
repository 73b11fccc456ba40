/// Fixed-size C arrays of uint64_t arrive in Swift as tuples; this reads one as an array.
enum CArray {
  static func uint64s<T>(_ tuple: T) -> [UInt64] {
    withUnsafeBytes(of: tuple) { Array($0.bindMemory(to: UInt64.self)) }
  }
}
