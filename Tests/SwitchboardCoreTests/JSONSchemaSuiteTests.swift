import Foundation
import Testing
@testable import SwitchboardCore

/// Runs the official JSON-Schema-Test-Suite (draft 2020-12) from ../shared/testdata.
@Suite struct JSONSchemaSuiteTests {
    /// Files that need what Switchboard deliberately lacks: remote documents, `$vocabulary` switching,
    /// and `format` as an assertion (it is an annotation here).
    static let excluded: Set<String> = ["refRemote.json", "dynamicRef.json", "vocabulary.json", "format.json"]

    @Test func officialSuite() throws {
        let folder = TestData.root.appendingPathComponent("json-schema-test-suite/draft2020-12")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else {
            Issue.record("JSON Schema test suite not found at \(folder.path); set SWITCHBOARD_TESTDATA")
            return
        }
        var totalPassed = 0
        var totalCases = 0
        var failures: [String] = []
        for name in names.sorted() where name.hasSuffix(".json") && !Self.excluded.contains(name) {
            let data = try Data(contentsOf: folder.appendingPathComponent(name))
            let groups = try JSON.parse(bytes: data)
            var passed = 0
            var count = 0
            for group in groups.arrayValue ?? [] {
                let description = group["description"]?.stringValue ?? "?"
                let schema: Schema
                do {
                    schema = try Schema(group["schema"] ?? .null)
                } catch {
                    failures.append("\(name): \(description): schema refused: \(error)")
                    count += group["tests"]?.arrayValue?.count ?? 0
                    continue
                }
                for test in group["tests"]?.arrayValue ?? [] {
                    count += 1
                    let expected = test["valid"]?.boolValue ?? false
                    let data = test["data"] ?? .null
                    let quick = schema.isValid(data)
                    let full = schema.validate(data).isEmpty
                    if quick == expected && full == expected {
                        passed += 1
                    } else {
                        failures.append("\(name): \(description): \(test["description"]?.stringValue ?? "?") expected \(expected), got \(quick)/\(full)")
                    }
                }
            }
            print("json-schema-suite \(name): \(passed)/\(count) passed")
            totalPassed += passed
            totalCases += count
        }
        print("json-schema-suite total: \(totalPassed)/\(totalCases) passed")
        #expect(totalCases > 1000)
        #expect(failures.isEmpty, "\(failures.count) failures:\n\(failures.joined(separator: "\n"))")
    }
}
