import SwitchboardCore

/// Turning what the plugin declares into registrations through its `PluginContext`, and back.
extension ExternalPlugin {
    /// Registers one declaration, unless the same is registered already (a restart declaring it again).
    /// - Throws: `CallError` (EINVAL for a bad definition, EEXIST for a name taken by someone else).
    func declare(_ declaration: PluginDeclaration, in context: PluginContext) throws(CallError) {
        let existing = state.withLock { $0.active[declaration.key] ?? $0.building?[declaration.key] }
        if existing != declaration {
            if let existing { withdraw(existing.kind, existing.name, in: context) }
            do {
                try register(declaration, in: context)
            } catch let error as CallError {
                throw error
            } catch {
                throw CallError(Errno.EINVAL, "\(declaration.kind.rawValue) \(declaration.name): \(error)")
            }
        }
        state.withLock { state in
            if state.building != nil {
                state.building?[declaration.key] = declaration
            } else {
                state.active[declaration.key] = declaration
            }
        }
    }

    /// Withdraws one registration (what `plugin.unregister` names, or what a restart no longer declares).
    func withdraw(_ kind: PluginDeclaration.Kind, _ name: String, in context: PluginContext) {
        let key = PluginDeclaration(kind: kind, name: name, definition: .null).key
        let token = state.withLock { state -> EventBus.Token? in
            state.active.removeValue(forKey: key)
            state.building?.removeValue(forKey: key)
            return kind == .handler ? state.handlers.removeValue(forKey: name) : nil
        }
        switch kind {
        case .schema:
            do { try context.unregister(schema: name) } catch {
                logger.warning("schema definition kept: a method still refers to it", metadata: ["schema": .string(name), "error": .string("\(error)")])
            }
        case .service: context.unregister(service: name)
        case .eventType, .eventSource: context.unregister(event: name)
        case .method: context.unregister(method: name)
        case .handler: if let token { context.removeHandler(token) }
        case .room: context.unregister(room: name)
        case .sessionManager: context.unregister(sessionManager: name)
        case .worker:
            // Stopping a worker waits for it; a withdrawal is answered at once, as the others are.
            Task { await context.unregister(worker: name) }
        }
    }

    private func register(_ declaration: PluginDeclaration, in context: PluginContext) throws {
        let definition = declaration.definition
        let name = declaration.name
        let attribute = "\(declaration.kind.rawValue).\(name)"
        let description = definition["description"]?.stringValue ?? ""
        let roles = try strings(definition["roles"], "\(attribute).roles")
        switch declaration.kind {
        case .schema:
            try context.register(schema: name, definition)
        case .service:
            context.register(ServiceDescriptor(name: name, description: description))
        case .eventType:
            try context.register(EventTypeDescriptor(name, description: description, roles: roles, schema: definition["schema"] ?? true,
                                                     scope: try scope(definition["scope"], "\(attribute).scope")))
        case .eventSource:
            // The producer waits out a plugin restart (EAGAIN) under the source supervisor's backoff, never giving up.
            try context.register(EventSourceDescriptor(name, description: description, roles: roles,
                                                       argumentSchema: definition["argument_schema"] ?? true, maxRestarts: .max) { argument, emit in
                try await self.runSource(name, argument: argument, emit: emit)
            })
        case .method:
            try context.register(try methodDescriptor(name, definition, attribute: attribute, roles: roles, description: description))
        case .handler:
            let token = context.onEvent(name) { [weak self] event in self?.deliver(event, mask: name) }
            state.withLock { $0.handlers[name] = token }
        case .room:
            let maxMembers = try integer(definition["max_members"], "\(attribute).max_members", 1...1_000_000) ?? 10_000
            try context.register(RoomDescriptor(name, description: description, roles: roles, maxMembers: maxMembers))
        case .sessionManager:
            try context.register(SessionManagerDescriptor(name, description: description) { request in
                try await self.judge(name, request)
            })
        case .worker:
            let policy = try restartPolicy(definition["restart"], "\(attribute).restart")
            try context.register(WorkerDescriptor(name, description: description, policy: policy) { worker in
                try await self.runWorker(name, worker)
            })
        }
    }

    private func methodDescriptor(_ name: String, _ definition: JSON, attribute: String, roles: [String],
                                  description: String) throws(CallError) -> MethodDescriptor {
        var parameters: [Parameter] = []
        if let params = definition["params"], !params.isNull {
            guard case .array(let list) = params else { throw CallError.validation("\(attribute).params", "must be a list") }
            for (index, entry) in list.enumerated() {
                guard let parameterName = entry["name"]?.stringValue, !parameterName.isEmpty else {
                    throw CallError.validation("\(attribute).params.\(index).name", "must be a non-empty string")
                }
                let schema = entry["schema"] ?? true
                if let value = entry["default"] {
                    parameters.append(Parameter(parameterName, schema: schema, default: value))
                } else {
                    parameters.append(Parameter(parameterName, schema: schema))
                }
            }
        }
        var flags: MethodFlags = []
        for flag in try strings(definition["flags"], "\(attribute).flags") {
            switch flag {
            case "readonly": flags.insert(.readonly)
            case "private": flags.insert(.private)
            case "no_auth_required": flags.insert(.noAuthRequired)
            default: throw CallError.validation("\(attribute).flags", "unknown flag \(flag) (known: readonly, private, no_auth_required)")
            }
        }
        let returns = definition["returns"] ?? true
        do {
            guard let job = definition["job"], job != false, !job.isNull else {
                var method = try MethodDescriptor(name, description: description, params: parameters, returns: returns, roles: roles,
                                                  flags: flags) { ctx, args in
                    try await self.forwardCall(name, args, ctx)
                }
                method.executor = executor
                return method
            }
            var options = JobOptions(abortable: job["abortable"]?.boolValue ?? false, transient: job["transient"]?.boolValue ?? false,
                                     logs: job["logs"]?.boolValue ?? false)
            if let lock = job["lock"]?.stringValue {
                options.lock = { _ in lock }
                options.lockQueueSize = job["queue_size"]?.intValue.map { Int($0) }
            }
            for pipe in try strings(job["pipes"], "\(attribute).job.pipes") {
                switch pipe {
                case "input": options.pipes.insert(.input)
                case "output": options.pipes.insert(.output)
                default: throw CallError.validation("\(attribute).job.pipes", "unknown pipe \(pipe) (known: input, output)")
                }
            }
            return try MethodDescriptor.job(name, description: description, params: parameters, returns: returns, roles: roles,
                                            flags: flags, options: options) { job, args in
                try await self.forwardJob(name, args, job)
            }
        } catch let error as CallError {
            throw error
        } catch {
            throw CallError(Errno.EINVAL, "method \(name): \(error)")
        }
    }

    /// `node` (the default) or `cluster`: whether the type's events reach the other nodes of a cluster.
    private func scope(_ value: JSON?, _ attribute: String) throws(CallError) -> EventScope {
        guard let value, !value.isNull else { return .node }
        guard let text = value.stringValue, let scope = EventScope(rawValue: text) else {
            throw CallError.validation(attribute, "must be node or cluster")
        }
        return scope
    }

    private func integer(_ value: JSON?, _ attribute: String, _ range: ClosedRange<Int>) throws(CallError) -> Int? {
        guard let value, !value.isNull else { return nil }
        guard let number = value.intValue, range.contains(Int(number)) else {
            throw CallError.validation(attribute, "must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return Int(number)
    }

    /// A worker's `restart`: `initial_delay_ms`, `max_delay_seconds`, `jitter_percent`, `stable_seconds`,
    /// `intensity`, `window_seconds`, each optional (the defaults of `RestartPolicy`).
    private func restartPolicy(_ value: JSON?, _ attribute: String) throws(CallError) -> RestartPolicy {
        var policy = RestartPolicy()
        guard let value, !value.isNull else { return policy }
        guard case .object(let object) = value else { throw CallError.validation(attribute, "must be an object") }
        let known = ["initial_delay_ms", "max_delay_seconds", "jitter_percent", "stable_seconds", "intensity", "window_seconds"]
        if let unknown = object.keys.first(where: { !known.contains($0) }) {
            throw CallError.validation("\(attribute).\(unknown)", "is not a restart setting (known: \(known.joined(separator: ", ")))")
        }
        if let v = try integer(value["initial_delay_ms"], "\(attribute).initial_delay_ms", 1...600_000) { policy.initialDelay = .milliseconds(v) }
        if let v = try integer(value["max_delay_seconds"], "\(attribute).max_delay_seconds", 1...86_400) { policy.maxDelay = .seconds(v) }
        if let v = try integer(value["jitter_percent"], "\(attribute).jitter_percent", 0...100) { policy.jitter = Double(v) / 100 }
        if let v = try integer(value["stable_seconds"], "\(attribute).stable_seconds", 1...86_400) { policy.stablePeriod = .seconds(v) }
        if let v = try integer(value["intensity"], "\(attribute).intensity", 1...1_000) { policy.intensity = v }
        if let v = try integer(value["window_seconds"], "\(attribute).window_seconds", 1...86_400) { policy.window = .seconds(v) }
        guard policy.initialDelay <= policy.maxDelay else {
            throw CallError.validation("\(attribute).initial_delay_ms", "must not be longer than max_delay_seconds")
        }
        return policy
    }

    private func strings(_ value: JSON?, _ attribute: String) throws(CallError) -> [String] {
        guard let value, !value.isNull else { return [] }
        guard case .array(let items) = value else { throw CallError.validation(attribute, "must be a list of strings") }
        var result: [String] = []
        for (index, item) in items.enumerated() {
            guard let text = item.stringValue else { throw CallError.validation("\(attribute).\(index)", "must be a string") }
            result.append(text)
        }
        return result
    }
}
