import SwitchboardCore

/// FreeNAS 10's streaming responses: a client that enabled `streaming_responses` gets a query's answer as
/// `rpc/fragment` messages `{"seqno": n, "fragment": [rows]}`, asks for each next one with `rpc/continue`
/// (args: the seqno it wants), and is told `rpc/end` (args: the seqno after the last fragment); `rpc/abort`
/// drops the rest. Other answers come whole, as `rpc/response`.
extension EnvelopeRequests {
    static let streamingFeature = "streaming_responses"

    /// The key a stream is kept under: the call's id, as the client wrote it.
    static func streamKey(_ id: JSON) -> String { id.stringValue ?? String(decoding: EnvelopeCodec.encode(id), as: UTF8.self) }

    func streamedCall(id: JSON, args: JSON, session: Session, state: EnvelopeConnectionState) async throws(CallError) -> JSON {
        let (method, arguments) = try Self.rpcCall(args)
        let fragments = FragmentedAnswer()
        let result = try await call(method, arguments: arguments, session: session, state: state, fragments: fragments)
        guard let stream = fragments.stream else { return EnvelopeCodec.response(id: id, args: result) }
        try state.open(Self.streamKey(id), stream)
        return try await fragment(id: id, state: state)
    }

    /// The stream's next fragment, or its end (which forgets it).
    func fragment(id: JSON, state: EnvelopeConnectionState) async throws(CallError) -> JSON {
        let key = Self.streamKey(id)
        let (stream, seqno) = try state.advance(key)
        let rows: [JSON]?
        do {
            rows = try await stream.next()
        } catch {
            state.close(key)
            throw error as? CallError ?? CallError.internalError(String(describing: error))
        }
        state.read(key)
        guard let rows else {
            state.close(key)
            return ["namespace": "rpc", "name": "end", "id": id, "args": .int(Int64(seqno))]
        }
        return ["namespace": "rpc", "name": "fragment", "id": id, "args": ["seqno": .int(Int64(seqno)), "fragment": .array(rows)]]
    }
}
