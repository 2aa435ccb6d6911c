import Foundation
import Testing
@testable import SwitchboardJSON

/// Runs the official JSON-Schema-Test-Suite (draft 2020-12) from ../shared/testdata.
@Suite struct JSONSchemaSuiteTests {
    /// The groups of the suite that are not run, each with its reason. Every one refers to a document the suite
    /// serves from `http://localhost:1234/` (its `remotes/` folder): Switchboard resolves `$ref` only inside the
    /// schema it is given and fetches nothing, so a schema that names another document cannot be compiled to what
    /// the suite expects. `officialSuite` checks that each excluded group does name such a document, and that
    /// every group of every file, these aside, passes; `format.json` runs too (`format` is an annotation, as the
    /// suite's default expects).
    static let excluded: [String: [String: String]] = [
        "dynamicRef.json": [
            "strict-tree schema, guards against misspelled properties": "needs the remote document tree.json",
            "tests for implementation dynamic anchor and reference link": "needs the remote document extendible-dynamic-ref.json",
            "$ref and $dynamicAnchor are independent of order - $defs first": "needs the remote document extendible-dynamic-ref.json",
            "$ref and $dynamicAnchor are independent of order - $ref first": "needs the remote document extendible-dynamic-ref.json",
            "$ref to $dynamicRef finds detached $dynamicAnchor": "needs the remote document detached-dynamicref.json",
        ],
        "refRemote.json": [
            "remote ref": "needs the remote document integer.json",
            "fragment within remote ref": "needs the remote document subSchemas.json",
            "anchor within remote ref": "needs the remote document locationIndependentIdentifier.json",
            "ref within remote ref": "needs the remote document subSchemas.json",
            "base URI change": "needs the remote document baseUriChange/folderInteger.json",
            "base URI change - change folder": "needs the remote document baseUriChangeFolder/folderInteger.json",
            "base URI change - change folder in subschema": "needs the remote document baseUriChangeFolderInSubschema/folderInteger.json",
            "root ref in remote ref": "needs the remote document name-defs.json",
            "remote ref with ref to defs": "needs the remote document ref-and-defs.json",
            "Location-independent identifier in remote ref": "needs the remote document locationIndependentIdentifier.json",
            "retrieved nested refs resolve relative to their URI not $id": "needs the remote document nested/foo-ref-string.json",
            "remote HTTP ref with different $id": "needs the remote document different-id-ref-string.json",
            "remote HTTP ref with different URN $id": "needs the remote document urn-ref-string.json",
            "remote HTTP ref with nested absolute ref": "needs the remote document nested-absolute-ref-to-string.json",
            "$ref to $ref finds detached $anchor": "needs the remote document detached-ref.json",
        ],
        "vocabulary.json": [
            "schema that uses custom metaschema with with no validation vocabulary":
                "needs the remote metaschema metaschema-no-validation.json, and `$vocabulary` switching, which Switchboard does not do",
        ],
    ]

    @Test func officialSuite() throws {
        let folder = TestData.root.appendingPathComponent("json-schema-test-suite/draft2020-12")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else {
            Issue.record("JSON Schema test suite not found at \(folder.path); set SWITCHBOARD_TESTDATA")
            return
        }
        var totalPassed = 0
        var totalCases = 0
        var failures: [String] = []
        var skipped = 0
        for name in names.sorted() where name.hasSuffix(".json") {
            let data = try Data(contentsOf: folder.appendingPathComponent(name))
            let groups = try JSON.parse(bytes: data)
            var passed = 0
            var count = 0
            for group in groups.arrayValue ?? [] {
                let description = group["description"]?.stringValue ?? "?"
                if Self.excluded[name]?[description] != nil {
                    // The reason must hold: the group names a document of the suite's remote server.
                    #expect(group["schema"]?.encodedString().contains("localhost:1234") == true, "\(name): \(description) needs no remote document")
                    skipped += 1
                    continue
                }
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
        print("json-schema-suite total: \(totalPassed)/\(totalCases) passed, \(skipped) groups excluded")
        #expect(totalCases > 1000)
        #expect(skipped == Self.excluded.values.map(\.count).reduce(0, +), "an excluded group is no longer in the suite")
        #expect(failures.isEmpty, "\(failures.count) failures:\n\(failures.joined(separator: "\n"))")
    }
}
