import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// The web UI's files (`Public/`), read once at start and served from memory.
struct WebAssets: Sendable {
    struct Asset: Sendable {
        let body: ByteBuffer
        let contentType: String
    }

    private let assets: [String: Asset]

    /// Loads every file under the bundle's `Public` folder; the key is its path relative to it.
    init(bundle: Bundle = .module) throws {
        guard let root = bundle.resourceURL?.appendingPathComponent("Public", isDirectory: true) else {
            throw ConfigurationError("the web UI files are missing from the gateway's resource bundle")
        }
        var assets: [String: Asset] = [:]
        let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = files?.nextObject() as? URL {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let path = String(url.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count + 1))
            assets[path] = Asset(body: ByteBuffer(bytes: try Data(contentsOf: url)), contentType: Self.contentType(of: path))
        }
        guard assets["index.html"] != nil else {
            throw ConfigurationError("the web UI files are missing from the gateway's resource bundle")
        }
        self.assets = assets
    }

    func response(for path: String) throws -> Response {
        guard let asset = assets[path.isEmpty ? "index.html" : path] else {
            throw APIError.notFound("no such file")
        }
        return Response(
            status: .ok,
            headers: [.contentType: asset.contentType, .cacheControl: "no-cache"],
            body: .init(byteBuffer: asset.body)
        )
    }

    private static func contentType(of path: String) -> String {
        switch path.split(separator: ".").last {
        case "html": "text/html; charset=utf-8"
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "json": "application/json"
        default: "application/octet-stream"
        }
    }
}
