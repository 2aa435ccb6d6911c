import Foundation
import Testing
import SwitchboardCore
import SwitchboardFuzzing

/// Every committed seed (Fuzz/Corpus/TARGET) and every input a fuzzer once crashed on
/// (Fuzz/Regressions/TARGET) runs through its target's checks: what was fixed stays fixed.
struct FuzzRegressionTests {
    static let fuzzRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz")

    static func inputs(_ folder: String, _ target: FuzzTarget) -> [URL] {
        let directory = fuzzRoot.appendingPathComponent(folder).appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().map { directory.appendingPathComponent($0) }
    }

    @Test(arguments: FuzzTarget.allCases) func corpusAndRegressionsPass(target: FuzzTarget) throws {
        let seeds = Self.inputs("Corpus", target)
        #expect(seeds.count >= 5, "Fuzz/Corpus/\(target.rawValue) holds \(seeds.count) seeds")
        for file in seeds + Self.inputs("Regressions", target) {
            let bytes = try [UInt8](Data(contentsOf: file))
            #expect(target.run(bytes) == nil, "\(file.lastPathComponent)")
        }
    }

    /// The checks themselves catch what they claim to: a target that never fails tests nothing.
    @Test func harnessesSeeTheirInputs() {
        // A seed of each kind is understood (parsed and run), not refused at the door.
        #expect(FuzzTarget.json.run(Array(#"{"a":[1,2]}"#.utf8)) == nil)
        #expect(FuzzTarget.schema.run(Array(#"[{"type":"string"},1]"#.utf8)) == nil)
        #expect(FuzzTarget.query.run(Array(#"[[{"a":1}],[["a","=",1]],{"count":true}]"#.utf8)) == nil)
        // Garbage of every sort is handled without a crash.
        for bytes in [[UInt8](), [0xFF, 0xFE], Array(String(repeating: "[", count: 100_000).utf8), Array("{\"a\":1e999999}".utf8)] {
            for target in FuzzTarget.allCases { #expect(target.run(bytes) == nil) }
        }
    }
}
