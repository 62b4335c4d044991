import Foundation

/// Where `swift build` put the package's executables: next to the test bundle,
/// or `TAILGATE_BUILD_DIR`.
public enum BuiltProducts {
    public static var directory: URL {
        if let directory = ProcessInfo.processInfo.environment["TAILGATE_BUILD_DIR"] {
            return URL(fileURLWithPath: directory)
        }
        var bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while bundle.pathExtension != "xctest", bundle.pathComponents.count > 1 {
            bundle.deleteLastPathComponent()
        }
        return bundle.deletingLastPathComponent()
    }

    public static func path(of product: String) -> String {
        directory.appendingPathComponent(product).path
    }
}
