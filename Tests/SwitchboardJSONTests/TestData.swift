import Foundation

/// Where the external test suites live: `$SWITCHBOARD_TESTDATA`, else `../shared/testdata` beside the checkout.
enum TestData {
    static var root: URL {
        if let override = ProcessInfo.processInfo.environment["SWITCHBOARD_TESTDATA"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/testdata")
    }
}
