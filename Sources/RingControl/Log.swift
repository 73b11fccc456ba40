import Glibc

/// One line on stderr, prefixed like every other broker message: the control thread logs
/// refused attaches the same way the pool logs its workers (RingPool has its own `log`).
func log(_ message: String) {
  fputs("ringbroker: \(message)\n", stderr)
}
