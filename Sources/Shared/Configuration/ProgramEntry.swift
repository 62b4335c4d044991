import ArgumentParser
import Foundation
import Logging

/// Runs a program's command the way SPEC §1 asks: `--help` prints usage and
/// exits 0; bad flags or configuration print one clear line on stderr and exit 2.
public enum ProgramEntry {
    public static func main<Command: AsyncParsableCommand>(_ command: Command.Type) async {
        let name = Command.configuration.commandName ?? "tailgate"
        do {
            var command = try Command.parse()
            try await command.run()
        } catch let error as ConfigurationError {
            fail("\(name): \(error.description)")
        } catch {
            let code = Command.exitCode(for: error)
            if code == .success {
                print(Command.fullMessage(for: error))
                exit(0)
            }
            let message = Command.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            fail("\(name): \(message)")
        }
    }

    /// One line on stderr, exit code 2.
    public static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(2)
    }
}

/// Logging to stderr at the configured level, for both programs.
public func bootstrapLogging(level: Logger.Level) {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
}
