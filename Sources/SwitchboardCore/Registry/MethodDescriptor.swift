/// Flags that change how a method is exposed and run.
public struct MethodFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Runs in the background as a job.
    public static let job = MethodFlags(rawValue: 1 << 0)
    /// Not listed by `core.get_methods` unless the session asked for private methods; FULL_ADMIN only.
    public static let `private` = MethodFlags(rawValue: 1 << 1)
    /// Callable before authentication (login methods, `core.ping`, `core.set_options`).
    public static let noAuthRequired = MethodFlags(rawValue: 1 << 2)
    /// Changes nothing; READONLY_ADMIN may call it.
    public static let readonly = MethodFlags(rawValue: 1 << 3)
}

/// One positional parameter: a name (the root of validation paths) and a JSON Schema.
public struct Parameter: Sendable {
    public var name: String
    public var schema: JSON
    /// Filled in when the caller leaves the argument out; a parameter without default is required.
    public var defaultValue: JSON?
    public var required: Bool { defaultValue == nil }

    /// A required parameter.
    public init(_ name: String, schema: JSON) {
        self.name = name
        self.schema = schema
        self.defaultValue = nil
    }

    /// An optional parameter; `defaultValue` (which may be `nil`, JSON null) stands in when it is left out.
    public init(_ name: String, schema: JSON, default defaultValue: JSON) {
        self.name = name
        self.schema = schema
        self.defaultValue = defaultValue
    }
}

/// The body of a method: receives the call context and the validated arguments (defaults filled in).
public typealias MethodHandler = @Sendable (CallContext, [JSON]) async throws -> JSON

/// One callable `namespace.name`.
///
/// ```swift
/// MethodDescriptor("system.hostname", description: "The host name", returns: ["type": "string"],
///                  roles: [Role.readonlyAdmin], flags: .readonly) { _, _ in .string(hostname()) }
/// ```
public struct MethodDescriptor: Sendable {
    public var name: String
    public var description: String
    public var params: [Parameter]
    public var returns: JSON
    /// Any one of these roles admits the caller; empty means FULL_ADMIN only.
    public var roles: [String]
    public var flags: MethodFlags
    /// A larger request message than the daemon's limit for authenticated sessions that this method accepts
    /// (up to `dispatcher.max-message-size`), e.g. for uploads; nil for the default limit.
    public var maxMessageSize: Int?
    /// Where a call of this method would rather run, for a method whose body waits on I/O that one thread
    /// serves (a plugin's socket): the call starts, waits and resumes on that thread instead of hopping to it
    /// and back. Nil (the default) runs it on Swift's global executor. A method with an executor must not
    /// block: it shares the thread with that I/O.
    public var executor: (any TaskExecutor)?
    public var handler: MethodHandler
    /// A job method whose jobs may be aborted (its `JobOptions.abortable`), as `discovery.get_tasks` reports it.
    public internal(set) var abortable = false
    /// The transfers a job method's calls carry (its `JobOptions.pipes`).
    public internal(set) var pipes: JobPipeKinds = []
    /// Parameter schemas compiled once, and again at registration when they name schema definitions.
    var compiled: [Schema]
    /// The schema definitions its parameter and result schemas name (`#/components/schemas/<name>`).
    let references: Set<String>

    /// - Throws: `CallError` (EINVAL, with each problem's attribute path in `extra`) when a parameter or result
    ///   schema is not a valid draft 2020-12 schema or holds a pattern the engine refuses.
    public init(
        _ name: String, description: String = "", params: [Parameter] = [], returns: JSON = true,
        roles: [String] = [], flags: MethodFlags = [], handler: @escaping MethodHandler
    ) throws {
        self.name = name
        self.description = description
        self.params = params
        self.returns = returns
        self.roles = roles
        self.flags = flags
        self.handler = handler
        var issues: [ValidationIssue] = []
        for parameter in params { issues += Schema.definitionIssues(parameter.schema, path: "\(name).params.\(parameter.name)") }
        issues += Schema.definitionIssues(returns, path: "\(name).returns")
        if let first = issues.first {
            throw CallError(Errno.EINVAL, "method \(name) declares an invalid schema: \(first.attribute): \(first.message)",
                            extra: .array(issues.map { [.string($0.attribute), .string($0.message), .int(Int64($0.errno))] }))
        }
        self.compiled = try params.map { try Schema($0.schema) }
        self.references = params.reduce(SchemaDefinitions.references(in: returns)) { $0.union(SchemaDefinitions.references(in: $1.schema)) }
    }

    /// Recompiles the parameter schemas with the definitions they name placed where their `$ref`s point.
    mutating func link(_ definitions: [String: JSON]) throws(CallError) {
        do {
            compiled = try params.map { try Schema(SchemaDefinitions.linked($0.schema, definitions)) }
        } catch {
            throw CallError(Errno.EINVAL, "method \(name): \(error)")
        }
    }

    public var namespace: String {
        guard let dot = name.lastIndex(of: ".") else { return name }
        return String(name[..<dot])
    }

    /// The `core.get_methods` entry: description, `accepts` and `returns` schemas, roles, flags and transfers.
    public var introspection: JSON {
        var accepts: [JSON] = []
        for parameter in params {
            var schema = parameter.schema.objectValue ?? [:]
            if schema["title"] == nil { schema["title"] = .string(parameter.name) }
            if let value = parameter.defaultValue { schema["default"] = value }
            schema["_required_"] = .bool(parameter.required)
            accepts.append(.object(schema))
        }
        return [
            "description": .string(description),
            "accepts": .array(accepts),
            "returns": returns,
            "roles": JSON(strings: Role.effective(roles)),
            "job": .bool(flags.contains(.job)),
            // middlewared's names: the method reads an upload (POST /_upload), writes a download (core.download).
            "uploadable": .bool(pipes.contains(.input)),
            "downloadable": .bool(pipes.contains(.output)),
            "private": .bool(flags.contains(.private)),
            "no_auth_required": .bool(flags.contains(.noAuthRequired)),
            "readonly": .bool(flags.contains(.readonly)),
        ]
    }
}
