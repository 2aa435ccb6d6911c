#if canImport(Glibc)
import Glibc
#endif
import CFuzzerDriver
import SwitchboardFuzzing

/// The target this process fuzzes, from SWITCHBOARD_FUZZ_TARGET (json, schema, query, jsonrpc, ddp,
/// envelope, regex): one instrumented binary serves them all, so `scripts/fuzz` builds once.
let target: FuzzTarget = {
    guard let name = getenv("SWITCHBOARD_FUZZ_TARGET").map({ String(cString: $0) }), let target = FuzzTarget(rawValue: name) else {
        let known = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        let message = Array("switchboard-fuzzer: set SWITCHBOARD_FUZZ_TARGET to one of \(known)\n".utf8)
        _ = message.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        exit(2)
    }
    return target
}()

/// libFuzzer's entry point; a broken invariant crashes so that libFuzzer keeps the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if let failure = target.run(UnsafeRawBufferPointer(start: data, count: size)) {
        preconditionFailure("\(target.rawValue): \(failure)")
    }
    return 0
}
