/// The keywords that test the instance itself, without applying subschemas.
extension SchemaEvaluator {
    func validateAssertions(_ schema: JSONObject, _ instance: JSON, path: String, collect: Bool, result: inout Evaluation) {
        func failure(_ message: String, at attribute: String? = nil) {
            result.valid = false
            report(collect, attribute ?? path, message)
        }

        if let type = schema["type"] {
            let actual = instance.typeName
            let matches: Bool
            let expected: [String]
            switch type {
            case .string(let name): expected = [name]
            case .array(let names): expected = names.compactMap(\.stringValue)
            default: expected = []
            }
            matches = expected.contains { $0 == actual || ($0 == "number" && actual == "integer") }
            if !matches {
                if expected.count == 1 {
                    failure("Input should be a valid \(Self.typeNoun(expected[0]))")
                } else {
                    failure("Input should be one of the types \(expected.joined(separator: ", "))")
                }
                if !collect { return }
            }
        }
        if case .array(let allowed) = schema["enum"], !allowed.contains(instance) {
            failure("Input should be one of \(JSON.array(allowed))")
            if !collect { return }
        }
        if let constant = schema["const"], constant != instance {
            failure("Input should be \(constant)")
            if !collect { return }
        }

        switch instance {
        case .int, .double:
            validateNumber(schema, instance, failure: failure)
        case .string(let string):
            let length = schema["minLength"] != nil || schema["maxLength"] != nil ? string.unicodeScalars.count : 0
            if let minimum = schema["minLength"]?.intValue, length < minimum {
                failure("String should have at least \(minimum) character\(minimum == 1 ? "" : "s")")
            }
            if let maximum = schema["maxLength"]?.intValue, length > maximum {
                failure("String should have at most \(maximum) character\(maximum == 1 ? "" : "s")")
            }
            if case .string(let pattern) = schema["pattern"] {
                switch PatternCache.shared.matches(pattern, string) {
                case .some(true): break
                case .some(false): failure("String should match pattern '\(pattern)'")
                case .none: failure("Invalid regular expression in schema: \(pattern)")
                }
            }
        case .array(let array):
            if let minimum = schema["minItems"]?.intValue, array.count < minimum {
                failure("List should have at least \(minimum) item\(minimum == 1 ? "" : "s")")
            }
            if let maximum = schema["maxItems"]?.intValue, array.count > maximum {
                failure("List should have at most \(maximum) item\(maximum == 1 ? "" : "s")")
            }
            if case .bool(true) = schema["uniqueItems"], array.count > 1 {
                var seen = Set<JSON>()
                for element in array where !seen.insert(element).inserted {
                    failure("List items should be unique")
                    break
                }
            }
        case .object(let object):
            if case .array(let required) = schema["required"] {
                for case .string(let name) in required where object[name] == nil {
                    failure("Field required", at: Self.child(path, name))
                }
            }
            if let minimum = schema["minProperties"]?.intValue, object.count < minimum {
                failure("Object should have at least \(minimum) propert\(minimum == 1 ? "y" : "ies")")
            }
            if let maximum = schema["maxProperties"]?.intValue, object.count > maximum {
                failure("Object should have at most \(maximum) propert\(maximum == 1 ? "y" : "ies")")
            }
            if case .object(let dependent) = schema["dependentRequired"] {
                for (name, needs) in dependent where object[name] != nil {
                    for case .string(let other) in needs.arrayValue ?? [] where object[other] == nil {
                        failure("Field required when \(name) is present", at: Self.child(path, other))
                    }
                }
            }
        default:
            break
        }
    }

    private func validateNumber(_ schema: JSONObject, _ instance: JSON, failure: (String, String?) -> Void) {
        func below(_ bound: JSON) -> Bool { JSON.compareNumbers(instance, bound) < 0 }
        func above(_ bound: JSON) -> Bool { JSON.compareNumbers(instance, bound) > 0 }
        if let bound = schema["minimum"], bound.isNumber, below(bound) {
            failure("Input should be greater than or equal to \(bound)", nil)
        }
        if let bound = schema["maximum"], bound.isNumber, above(bound) {
            failure("Input should be less than or equal to \(bound)", nil)
        }
        if let bound = schema["exclusiveMinimum"], bound.isNumber, !above(bound) {
            failure("Input should be greater than \(bound)", nil)
        }
        if let bound = schema["exclusiveMaximum"], bound.isNumber, !below(bound) {
            failure("Input should be less than \(bound)", nil)
        }
        if let divisor = schema["multipleOf"], divisor.isNumber, !Self.isMultiple(instance, of: divisor) {
            failure("Input should be a multiple of \(divisor)", nil)
        }
    }

    static func isMultiple(_ value: JSON, of divisor: JSON) -> Bool {
        if case .int(let x) = value, case .int(let d) = divisor, d != 0 { return x % d == 0 }
        guard let x = value.doubleValue, let d = divisor.doubleValue, d != 0 else { return false }
        let quotient = x / d
        guard quotient.isFinite else { return false }
        // Binary fractions make 0.0075 / 0.0001 land just beside 75; accept a relative error of a few ulps.
        return abs(quotient - quotient.rounded()) <= max(1, abs(quotient)) * 1e-12
    }

    static func typeNoun(_ type: String) -> String {
        switch type {
        case "array": return "list"
        case "object": return "object"
        case "null": return "null"
        default: return type
        }
    }
}
