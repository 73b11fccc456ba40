/// `--watch [SECONDS]`: the interval is optional on the command line, which ArgumentParser
/// cannot express, so a bare `--watch` gets the default interval inserted. A number right after
/// `--watch` is always the interval (write `ringstat PID --watch` to watch a broker by pid).
enum WatchArgument {
  static let defaultInterval = "1"

  static func normalize(_ arguments: [String]) -> [String] {
    var result: [String] = []
    var index = 0
    while index < arguments.count {
      let argument = arguments[index]
      result.append(argument)
      if argument == "--" {
        result += arguments[(index + 1)...]
        break
      }
      if argument == "--watch" || argument == "-w" {
        let next = index + 1 < arguments.count ? arguments[index + 1] : nil
        if next.flatMap(Double.init) == nil { result.append(defaultInterval) }
      }
      index += 1
    }
    return result
  }
}
