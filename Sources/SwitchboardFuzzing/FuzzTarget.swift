import SwitchboardCore
import SwitchboardWire

/// The inputs the fuzzers drive, one function per target: each takes arbitrary bytes, must never crash,
/// and checks the invariants of its component (a violation is reported by `FuzzTarget.failure`, which the
/// fuzz executables turn into a crash so libFuzzer keeps the input).
///
/// The same functions replay the committed corpus and every regression input in the unit tests, so a
/// crash found once stays fixed (`Tests/SwitchboardCoreTests/FuzzRegressionTests.swift`).
public enum FuzzTarget: String, CaseIterable, Sendable {
    case json
    case schema
    case query
    case jsonrpc
    case ddp
    case envelope
    case regex
    case frames
    case head
    case plugin

    /// Runs one input; returns a description of a broken invariant, or nil.
    public func run(_ bytes: UnsafeRawBufferPointer) -> String? {
        switch self {
        case .json: return Self.json(bytes)
        case .schema: return Self.schema(bytes)
        case .query: return Self.query(bytes)
        case .jsonrpc: return Self.jsonRPC(bytes)
        case .ddp: return Self.ddp(bytes)
        case .envelope: return Self.envelope(bytes)
        case .regex: return Self.regex(bytes)
        case .frames: return Self.frames(bytes)
        case .head: return Self.head(bytes)
        case .plugin: return Self.pluginProtocol(bytes)
        }
    }

    public func run(_ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBytes { run($0) }
    }
}
