import Foundation

/// Validates JSON against docs/findings.schema.json. It implements exactly the keywords that schema uses and
/// refuses any other, so a schema change it cannot check fails loudly instead of passing unchecked.
public struct FindingsSchema {
    public static let url = DaemonHarness.packageRoot.appendingPathComponent("docs/findings.schema.json")
    static let understood: Set<String> = ["$schema", "$id", "title", "description", "type", "additionalProperties", "required",
                                          "properties", "items", "minItems", "maxItems", "enum", "const", "pattern", "minimum",
                                          "maximum", "format"]
    let schema: [String: Any]

    public init() throws {
        schema = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.url)) as? [String: Any] ?? [:]
    }

    /// Every violation, as "path: problem"; empty when the document is valid.
    public func violations(of data: Data) -> [String] {
        guard let value = try? JSONSerialization.jsonObject(with: data) else { return ["$: not JSON"] }
        var problems: [String] = []
        check(value, schema, "$", &problems)
        return problems
    }

    private func check(_ value: Any, _ schema: [String: Any], _ path: String, _ problems: inout [String]) {
        for key in schema.keys where !Self.understood.contains(key) { problems.append("\(path): schema keyword \(key) is not checked by this validator") }
        if let type = schema["type"] as? String, !matches(value, type) { problems.append("\(path): not a \(type)"); return }
        if let constant = schema["const"], !equal(value, constant) { problems.append("\(path): must be \(constant)") }
        if let options = schema["enum"] as? [Any], !options.contains(where: { equal(value, $0) }) { problems.append("\(path): \(value) not in \(options)") }
        if let number = value as? NSNumber, !(value is Bool) {
            if let low = (schema["minimum"] as? NSNumber)?.doubleValue, number.doubleValue < low { problems.append("\(path): below \(low)") }
            if let high = (schema["maximum"] as? NSNumber)?.doubleValue, number.doubleValue > high { problems.append("\(path): above \(high)") }
        }
        if let text = value as? String {
            if let pattern = schema["pattern"] as? String, text.range(of: pattern, options: .regularExpression) == nil {
                problems.append("\(path): \(text) does not match \(pattern)")
            }
            if schema["format"] as? String == "date-time", ISO8601DateFormatter().date(from: text) == nil {
                problems.append("\(path): \(text) is not an RFC 3339 date-time")
            }
        }
        if let array = value as? [Any] {
            if let low = schema["minItems"] as? Int, array.count < low { problems.append("\(path): fewer than \(low) items") }
            if let high = schema["maxItems"] as? Int, array.count > high { problems.append("\(path): more than \(high) items") }
            if let items = schema["items"] as? [String: Any] {
                for (i, element) in array.enumerated() { check(element, items, "\(path)[\(i)]", &problems) }
            }
        }
        if let object = value as? [String: Any] {
            for key in schema["required"] as? [String] ?? [] where object[key] == nil { problems.append("\(path).\(key): required") }
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for (key, child) in object {
                if let childSchema = properties[key] as? [String: Any] {
                    check(child, childSchema, "\(path).\(key)", &problems)
                } else if let additional = schema["additionalProperties"] as? [String: Any] {
                    check(child, additional, "\(path).\(key)", &problems)
                } else if (schema["additionalProperties"] as? Bool) == false {
                    problems.append("\(path).\(key): not allowed by the schema")
                }
            }
        }
    }

    private func matches(_ value: Any, _ type: String) -> Bool {
        switch type {
        case "object": return value is [String: Any]
        case "array": return value is [Any]
        case "string": return value is String
        case "boolean": return isBool(value)
        case "integer": return !isBool(value) && (value as? NSNumber).map { $0.doubleValue.rounded() == $0.doubleValue } ?? false
        case "number": return !isBool(value) && value is NSNumber
        default: return false
        }
    }

    /// JSON true/false as Foundation parses them (a Bool, or an NSNumber of type char).
    private func isBool(_ value: Any) -> Bool {
        if value is Bool && !(value is Int) { return true }
        guard let number = value as? NSNumber else { return false }
        let type = String(cString: number.objCType)
        return type == "c" || type == "B"
    }

    private func equal(_ a: Any, _ b: Any) -> Bool {
        if let x = a as? String, let y = b as? String { return x == y }
        if let x = a as? NSNumber, let y = b as? NSNumber { return x == y }
        return false
    }
}
