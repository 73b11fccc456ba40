import Foundation

/// A count shared by client threads.
public final class Counter: @unchecked Sendable {
  private let lock = NSLock()
  private var count = 0

  public init() {}

  @discardableResult
  public func increment() -> Int {
    lock.withLock {
      count += 1
      return count
    }
  }

  public var value: Int { lock.withLock { count } }
}

/// A counting semaphore from NSCondition (no Dispatch needed).
public final class CountingSemaphore: @unchecked Sendable {
  private let condition = NSCondition()
  private var count = 0

  public init() {}

  public func signal() {
    condition.lock()
    count += 1
    condition.signal()
    condition.unlock()
  }

  /// Waits for a signal; false when none came within `timeout` seconds.
  @discardableResult
  public func wait(timeout: Double) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    condition.lock()
    defer { condition.unlock() }
    while count == 0 {
      if !condition.wait(until: deadline) && count == 0 { return false }
    }
    count -= 1
    return true
  }
}
