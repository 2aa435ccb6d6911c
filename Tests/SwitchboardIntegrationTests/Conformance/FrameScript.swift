import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore

/// One step of a conformance case over a WebSocket dialect.
enum FrameStep: Sendable {
    /// Sends a text frame (captured `$names` substituted).
    case send(String)
    case sendBinary([UInt8])
    /// The next frame must match.
    case expect(String)
    /// The next frames, as many as patterns, must match them in some order (a reply and events may interleave).
    case expectAnyOrder([String])
    /// Frames are read until one matches (at most 200 frames): for progress events whose count may vary.
    case skipUntil(String)
    /// Frames are read until each pattern has matched one, in any order, others skipped (at most 200): a job's
    /// reply races its first progress events, which the job's own task publishes.
    case collect([String])
}

/// A named list of steps, as a table row.
struct FrameCase: Sendable, CustomStringConvertible {
    var name: String
    var steps: [FrameStep]
    init(_ name: String, _ steps: [FrameStep]) {
        self.name = name
        self.steps = steps
    }
    var description: String { name }
}

struct ScriptFailure: Error, CustomStringConvertible {
    var description: String
}

enum FrameScript {
    /// Runs the steps in order on `ws`; the first mismatch ends the case with the frame that broke it.
    static func run(_ testCase: FrameCase, on ws: WebSocketConnection, captures: Captures = Captures()) async throws {
        for (index, step) in testCase.steps.enumerated() {
            let at = "\(testCase.name), step \(index + 1)"
            switch step {
            case .send(let text):
                try await ws.send(captures.substitute(text))
            case .sendBinary(let bytes):
                try await ws.sendBinary(bytes)
            case .expect(let pattern):
                let frame = try await next(ws, at)
                if let problem = FramePattern.mismatch(try parse(captures.substitute(pattern), at), frame, captures: captures) {
                    throw ScriptFailure(description: "\(at): \(problem)")
                }
            case .expectAnyOrder(let patterns):
                var remaining = try patterns.map { try parse(captures.substitute($0), at) }
                for _ in patterns {
                    let frame = try await next(ws, at)
                    guard let hit = remaining.firstIndex(where: { FramePattern.mismatch($0, frame, captures: captures) == nil }) else {
                        throw ScriptFailure(description: "\(at): \(frame.encodedString()) matches none of \(remaining.map { $0.encodedString() })")
                    }
                    remaining.remove(at: hit)
                }
            case .collect(let patterns):
                var remaining = try patterns.map { try parse(captures.substitute($0), at) }
                for _ in 0..<200 where !remaining.isEmpty {
                    let frame = try await next(ws, at)
                    if let hit = remaining.firstIndex(where: { FramePattern.mismatch($0, frame, captures: captures) == nil }) {
                        remaining.remove(at: hit)
                    }
                }
                if !remaining.isEmpty {
                    throw ScriptFailure(description: "\(at): no frames matched \(remaining.map { $0.encodedString() }) within 200 frames")
                }
            case .skipUntil(let pattern):
                let wanted = try parse(captures.substitute(pattern), at)
                var matched = false
                for _ in 0..<200 {
                    let frame = try await next(ws, at)
                    if FramePattern.mismatch(wanted, frame, captures: captures) == nil {
                        matched = true
                        break
                    }
                }
                if !matched { throw ScriptFailure(description: "\(at): no frame matched \(pattern) within 200 frames") }
            }
        }
    }

    static func next(_ ws: WebSocketConnection, _ at: String) async throws -> JSON {
        do {
            return try await ws.nextJSON(timeout: .seconds(10))
        } catch {
            throw ScriptFailure(description: "\(at): no frame (\(error))")
        }
    }

    static func parse(_ text: String, _ at: String) throws -> JSON {
        do {
            return try JSON.parse(text)
        } catch {
            throw ScriptFailure(description: "\(at): the pattern is not JSON: \(text)")
        }
    }

    /// Runs every case of a table on its own connection, recording each failure under the case's name.
    static func runTable(_ table: [FrameCase], connect: () async throws -> WebSocketConnection, prelude: [FrameStep] = []) async {
        for testCase in table {
            do {
                let ws = try await connect()
                let captures = Captures()
                try await run(FrameCase(testCase.name + " (prelude)", prelude), on: ws, captures: captures)
                try await run(testCase, on: ws, captures: captures)
                await ws.close()
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    /// Runs a table against a new daemon with an `admin` (FULL_ADMIN) and a `reader` (READONLY_ADMIN), both with
    /// password `pa55word`, each case on its own connection to `path`.
    static func runTableOnFreshDaemon(_ table: [FrameCase], path: String) async throws {
        let daemon = try await TestDaemon.start()
        await (try daemon.client(as: "admin", roles: [Role.fullAdmin])).close()
        await (try daemon.client(as: "reader", roles: [Role.readonlyAdmin])).close()
        var target = daemon.tcp
        target.path = path
        await runTable(table, connect: { try await WebSocketConnection.connect(to: target) })
        await daemon.stop()
    }
}
