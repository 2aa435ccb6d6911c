import Foundation
import Testing
import SwitchboardCore

/// The dialects, REST, the debug UI's script and the audit stage name the methods they call or classify through
/// `MethodName`, never as string literals: a literal would keep compiling after the method it names was renamed
/// or moved.
@Suite struct MethodNameLiteralTests {
    @Test func noRegisteredMethodIsNamedByALiteralInWireServerOrTheAuditStage() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        _ = try await root.call("core.set_options", [["private_methods": true]])
        let names = try #require(try await root.call("core.get_methods").objectValue?.keys).map { $0 }
        #expect(names.count > 40)
        await root.close()
        await daemon.stop()
        let root_ = Binary.packageRoot.appendingPathComponent("Sources")
        var found: [String] = []
        for folder in ["SwitchboardWire", "SwitchboardServer", "SwitchboardCore/Audit"] {
            let base = root_.appendingPathComponent(folder)
            let files = FileManager.default.enumerator(atPath: base.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
            #expect(!files.isEmpty, "no sources under \(folder)")
            for file in files {
                let text = try String(contentsOf: base.appendingPathComponent(file), encoding: .utf8)
                // Single quotes too: the debug UI's script is JavaScript inside a Swift file.
                for name in names where text.contains("\"\(name)\"") || text.contains("'\(name)'") {
                    found.append("\(folder)/\(file): \"\(name)\"")
                }
            }
        }
        #expect(found.isEmpty, "method names as literals: \(found)")
    }
}
