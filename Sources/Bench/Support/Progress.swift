import Foundation

/// Progress notes on stderr, so stdout holds only the results.
func progressNote(_ message: String) {
    FileHandle.standardError.write(Data("tailgate-bench: \(message)\n".utf8))
}
