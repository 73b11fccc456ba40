import CNuma
import Glibc

/// Binds shared memory to a NUMA node and faults it in before any request touches it.
public enum MemoryPlacement {
  /// `mbind(MPOL_BIND)`: for a memfd this sets the shared policy of the file's pages, so the
  /// pages land on `node` whichever process or thread faults them first.
  public static func bind(_ address: UnsafeMutableRawPointer, length: Int, toNode node: Int)
    throws(ChannelError)
  {
    guard node >= 0, node < 64 else {
      throw .invalidParameters("NUMA node \(node) is out of range")
    }
    var mask: UInt = 1 << UInt(node)
    let result = mbind(address, UInt(length), MPOL_BIND, &mask, UInt(UInt.bitWidth), 0)
    guard result == 0 else { throw .system("mbind to node \(node)", errno: errno) }
  }

  /// Allocates every page now (MADV_POPULATE_WRITE, or touching each page on older kernels).
  public static func prefault(_ address: UnsafeMutableRawPointer, length: Int) throws(ChannelError)
  {
    let populateWrite: Int32 = 23  // MADV_POPULATE_WRITE, Linux 5.14
    if madvise(address, length, populateWrite) == 0 { return }
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    var offset = 0
    while offset < length {
      (address + offset).storeBytes(of: 0, as: UInt8.self)
      offset += page
    }
  }

  /// The node that holds the page at `address`, from `get_mempolicy(MPOL_F_NODE | MPOL_F_ADDR)`.
  public static func nodeOfPage(at address: UnsafeRawPointer) -> Int? {
    var node: Int32 = -1
    let result = get_mempolicy(
      &node, nil, 0, UnsafeMutableRawPointer(mutating: address), UInt32(MPOL_F_NODE | MPOL_F_ADDR))
    return result == 0 ? Int(node) : nil
  }

  /// The policy mode set on the range holding `address` (MPOL_BIND after `bind`).
  public static func policyMode(at address: UnsafeRawPointer) -> Int32? {
    var mode: Int32 = -1
    var mask: UInt = 0
    let result = get_mempolicy(
      &mode, &mask, UInt(UInt.bitWidth), UnsafeMutableRawPointer(mutating: address),
      UInt32(MPOL_F_ADDR))
    return result == 0 ? mode : nil
  }
}
