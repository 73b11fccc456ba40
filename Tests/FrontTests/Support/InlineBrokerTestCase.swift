import TestSupport
import XCTest

/// A test case with a `ringbroker --inline` of its own for each test, stopped (and required to
/// exit 0) after it.
class InlineBrokerTestCase: XCTestCase {
  var broker: BrokerProcess!

  override func setUpWithError() throws {
    broker = try BrokerProcess(["--inline"])
  }

  override func tearDown() {
    XCTAssertEqual(broker.stop(), 0)
    broker = nil
  }
}
