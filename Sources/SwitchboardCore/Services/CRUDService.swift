/// Declares a CRUD service over a datastore table: `query`, `get_instance`, `create`, `update`, `delete`,
/// with `<namespace>.query` events on every write.
///
/// ```swift
/// var widgets = CRUDService(namespace: "widget", table: TableDefinition("widgets", columns: [
///     .init("name", .text, unique: true, nullable: false), .init("size", .integer)]),
///     entry: ["type": "object", "properties": ["id": ["type": "integer"], "name": ["type": "string"], "size": ["type": "integer"]]],
///     create: ["type": "object", "properties": ["name": ["type": "string"], "size": ["type": "integer"]],
///              "required": ["name"], "additionalProperties": false])
/// try await widgets.register(in: context)
/// ```
public struct CRUDService: Sendable {
    public typealias Extend = @Sendable (JSONObject) -> JSONObject
    public typealias PrepareCreate = @Sendable (CallContext, JSONObject) async throws -> JSONObject
    public typealias PrepareUpdate = @Sendable (CallContext, _ old: JSONObject, _ changes: JSONObject) async throws -> JSONObject
    public typealias BeforeDelete = @Sendable (CallContext, JSONObject) async throws -> Void
    public typealias AuthorizeRow = @Sendable (CallContext, _ stored: JSONObject) async throws -> Void
    /// After a write is stored and announced: the request's data and the client row, to the reply.
    public typealias Complete = @Sendable (CallContext, _ id: Int64, _ request: JSONObject, _ row: JSON) async throws -> JSON

    public var namespace: String
    public var description: String
    public var table: TableDefinition
    /// Schema of a row as clients see it (the `returns` of `get_instance`).
    public var entry: JSON
    /// Schema of `create`'s argument; `update` takes the same with nothing required.
    public var create: JSON
    public var update: JSON
    public var readRoles: [String] = [Role.readonlyAdmin]
    public var writeRoles: [String] = [Role.fullAdmin]
    /// Columns clients may not see or filter on (password hashes); removed after `extend` runs.
    public var hiddenColumns: Set<String> = []
    /// Stored row (hidden columns included) to client row.
    public var extend: Extend = { $0 }
    /// Client data to stored columns for `create`; may refuse with a `CallError`.
    public var prepareCreate: PrepareCreate = { _, data in data }
    /// Client changes to stored columns for `update`.
    public var prepareUpdate: PrepareUpdate = { _, _, changes in changes }
    /// Who may touch this stored row at all: run before every `update` and every `delete` alike, so a rule
    /// written once cannot be forgotten on one of them (a delegate that may not revoke an administrator's
    /// API key could once delete it).
    public var authorizeRow: AuthorizeRow = { _, _ in }
    /// What else a `delete` must check (after `authorizeRow`).
    public var beforeDelete: BeforeDelete = { _, _ in }
    /// What `create` and `update` answer, from the stored row: a service adds what is never stored or
    /// announced there, such as a secret shown once (API keys).
    public var completeCreate: Complete = { _, _, _, row in row }
    public var completeUpdate: Complete = { _, _, _, row in row }

    public init(namespace: String, description: String = "", table: TableDefinition, entry: JSON, create: JSON, update: JSON? = nil) {
        self.namespace = namespace
        self.description = description
        self.table = table
        self.entry = entry
        self.create = create
        if let update {
            self.update = update
        } else {
            var partial = create.objectValue ?? [:]
            partial.removeValue(forKey: "required")
            self.update = .object(partial)
        }
    }

    var argumentPrefix: String { namespace.replacingOccurrences(".", with: "_") }
    public var eventName: String { namespace + ".query" }

    /// Registers the service and its five methods, and prepares the table.
    public func register(in context: PluginContext) async throws {
        let (readRoles, writeRoles) = try await context.registerDataService(
            namespace: namespace, kind: .crud, description: description, table: table, event: eventName,
            eventDescription: "\(namespace) entries added, changed and removed.", entry: entry, readRoles: readRoles, writeRoles: writeRoles)
        let service = self
        let datastore = context.datastore
        let idSchema: JSON = ["type": "integer"]

        try context.register(MethodDescriptor(
            "\(namespace).query", description: "Query \(namespace) entries with filters and options.",
            params: QueryArguments.parameters,
            returns: ["anyOf": [["type": "array", "items": entry], entry, ["type": "integer"]]],
            roles: readRoles, flags: .readonly
        ) { ctx, args in
            let (filters, options) = try QueryArguments.parse(args)
            if let fragments = ctx.fragments, let stream = try await service.stream(datastore, filters: filters, options: options) {
                fragments.offer(stream)
                return .null
            }
            return try await service.query(datastore, filters: filters, options: options)
        })

        try context.register(MethodDescriptor(
            "\(namespace).get_instance", description: "One \(namespace) entry by id.",
            params: [Parameter("id", schema: idSchema), Parameter("options", schema: ["type": "object"], default: [:])],
            returns: entry, roles: readRoles, flags: .readonly
        ) { _, args in
            try await service.instance(datastore, id: args[0].intValue ?? 0)
        })

        try context.register(MethodDescriptor(
            "\(namespace).create", description: "Create a \(namespace) entry.",
            params: [Parameter("\(argumentPrefix)_create", schema: create)], returns: entry, roles: writeRoles
        ) { ctx, args in
            let data = args[0].objectValue ?? [:]
            let stored = try await service.prepareCreate(ctx, data)
            let change = try await service.insert(datastore, stored, attribute: "\(service.argumentPrefix)_create")
            context.announce(change)
            return try await service.completeCreate(ctx, change.id, data, change.event.fields)
        })

        try context.register(MethodDescriptor(
            "\(namespace).update", description: "Update a \(namespace) entry.",
            params: [Parameter("id", schema: idSchema), Parameter("\(argumentPrefix)_update", schema: update)],
            returns: entry, roles: writeRoles
        ) { ctx, args in
            let id = args[0].intValue ?? 0
            guard let old = try await datastore.get(service.table, id: id) else { throw service.notFound(id) }
            let request = args[1].objectValue ?? [:]
            try await service.authorizeRow(ctx, old)
            let changes = try await service.prepareUpdate(ctx, old, request)
            let change: AnnouncedChange
            do {
                guard let changed = try await datastore.update(service.table, id: id, changes, announcing: service.announcement(.changed)) else {
                    throw service.notFound(id)
                }
                change = changed
            } catch let error as CallError where error.errno == Errno.EEXIST {
                throw service.uniqueViolation(error, attribute: "\(service.argumentPrefix)_update")
            }
            context.announce(change)
            return try await service.completeUpdate(ctx, id, request, change.event.fields)
        })

        try context.register(MethodDescriptor(
            "\(namespace).delete", description: "Delete a \(namespace) entry.",
            params: [Parameter("id", schema: idSchema)], returns: ["type": "boolean"], roles: writeRoles
        ) { ctx, args in
            let id = args[0].intValue ?? 0
            guard let old = try await datastore.get(service.table, id: id) else { throw service.notFound(id) }
            try await service.authorizeRow(ctx, old)
            try await service.beforeDelete(ctx, old)
            guard let change = try await datastore.delete(service.table, id: id, announcing: service.announcement(.removed)) else {
                throw service.notFound(id)
            }
            context.announce(change)
            return true
        })
    }

    func notFound(_ id: Int64) -> CallError {
        CallError(Errno.ENOENT, "\(namespace) entry with id \(id) does not exist")
    }

    func uniqueViolation(_ error: CallError, attribute: String) -> CallError {
        let column = error.extra["column"]?.stringValue ?? ""
        return CallError.validation("\(attribute).\(column)", "An entry with this \(column) already exists", errno: Errno.EEXIST)
    }

    /// The event of a change, with the row as a client sees it (`clientRow`), made in the change's transaction.
    func announcement(_ kind: EventKind) -> ChangeAnnouncement {
        let service = self
        return ChangeAnnouncement { id, stored in
            Event(name: service.eventName, kind: kind, id: .int(id), fields: kind == .removed ? .null : service.clientRow(stored ?? [:]))
        }
    }

    func insert(_ datastore: any Datastore, _ row: JSONObject, attribute: String) async throws -> AnnouncedChange {
        do {
            return try await datastore.insert(table, row, announcing: announcement(.added))
        } catch let error as CallError where error.errno == Errno.EEXIST {
            throw uniqueViolation(error, attribute: attribute)
        }
    }

    func clientRow(_ stored: JSONObject) -> JSON {
        var row = extend(stored)
        for column in hiddenColumns { row.removeValue(forKey: column) }
        return .object(row)
    }

    func instance(_ datastore: any Datastore, id: Int64) async throws -> JSON {
        guard let row = try await datastore.get(table, id: id) else { throw notFound(id) }
        return clientRow(row)
    }

    /// Filters on stored, visible columns go to the datastore; the query engine then applies the whole
    /// query to the client rows, so a filter on a hidden column can never probe its value.
    func query(_ datastore: any Datastore, filters: [QueryFilter], options: QueryOptions) async throws -> JSON {
        let pushable = pushable(filters)
        let stored = try await datastore.query(table, filters: pushable, options: QueryOptions())
        let rows = (stored.arrayValue ?? []).map { clientRow($0.objectValue ?? [:]) }
        return try QueryEngine.run(rows, filters: filters, options: options)
    }

    func pushable(_ filters: [QueryFilter]) -> [QueryFilter] {
        filters.filter { filter in
            guard case .condition(let condition) = filter, let name = condition.field.simpleName else { return false }
            return (name == table.primaryKey || table.column(name) != nil) && !hiddenColumns.contains(name)
        }
    }

    /// The answer as a stream of fragments, read page by page when the options allow it; nil when it is not a
    /// list (`count`, `get`), which is answered whole.
    func stream(_ datastore: any Datastore, filters: [QueryFilter], options: QueryOptions) async throws -> QueryStream? {
        let service = self
        return try await QueryStream.offering(options, primaryKey: table.primaryKey) {
            try await query(datastore, filters: filters, options: options)
        } paged: {
            QueryStream(datastore: datastore, table: table, pushable: pushable(filters), filters: filters, options: options) { page in
                page.map { service.clientRow($0) }
            }
        }
    }
}
