import MedImaging

/// Which models see which scans: an ordered list of rules, the first match wins; a fallback covers the rest.
/// A rule may name several models (both chest models for a chest radiograph) or hold the scan for a person.
public struct Router: Sendable, Equatable, Codable {
    public var rules: [RoutingRule]
    /// Models for scans no rule matches; empty means such scans are held.
    public var fallback: [String]

    public init(rules: [RoutingRule], fallback: [String] = []) {
        self.rules = rules
        self.fallback = fallback
    }

    public enum Decision: Sendable, Equatable {
        case run(models: [String], rule: String)
        case hold(rule: String)
    }

    public func route(_ volume: Volume) -> Decision {
        for rule in rules where rule.matches(volume) {
            return rule.hold ? .hold(rule: rule.name) : .run(models: rule.models, rule: rule.name)
        }
        return fallback.isEmpty ? .hold(rule: "fallback") : .run(models: fallback, rule: "fallback")
    }

    /// Problems a configuration loader reports with the rule's name: a rule must hold or name models, not both.
    public func validationErrors() -> [String] {
        var errors: [String] = []
        var names = Set<String>()
        for rule in rules {
            if !names.insert(rule.name).inserted { errors.append("rule \(rule.name): the name is used twice") }
            if rule.hold == !rule.models.isEmpty {
                errors.append("rule \(rule.name): give either models or hold = true")
            }
            if let low = rule.minDepth, let high = rule.maxDepth, low > high {
                errors.append("rule \(rule.name): min_depth \(low) exceeds max_depth \(high)")
            }
        }
        return errors
    }
}

/// One routing rule. Every condition given must hold; string conditions match any of their values,
/// case-insensitively. Absent conditions match everything.
public struct RoutingRule: Sendable, Equatable, Codable {
    public var name: String
    public var modalities: [String]?
    public var sopClassUIDs: [String]?
    public var bodyParts: [String]?
    /// Volume kinds as intake names them: dicom, dicom-series, dicom-multiframe, oct-vol, png, jpeg, ...
    public var kinds: [String]?
    public var channels: Int?
    public var minDepth: Int?
    public var maxDepth: Int?
    public var models: [String]
    public var hold: Bool

    public init(name: String, modalities: [String]? = nil, sopClassUIDs: [String]? = nil, bodyParts: [String]? = nil,
                kinds: [String]? = nil, channels: Int? = nil, minDepth: Int? = nil, maxDepth: Int? = nil,
                models: [String] = [], hold: Bool = false) {
        self.name = name; self.modalities = modalities; self.sopClassUIDs = sopClassUIDs; self.bodyParts = bodyParts
        self.kinds = kinds; self.channels = channels; self.minDepth = minDepth; self.maxDepth = maxDepth
        self.models = models; self.hold = hold
    }

    enum CodingKeys: String, CodingKey {
        case name, modalities, bodyParts = "body_parts", kinds, channels, models, hold
        case sopClassUIDs = "sop_class_uids", minDepth = "min_depth", maxDepth = "max_depth"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        modalities = try c.decodeIfPresent([String].self, forKey: .modalities)
        sopClassUIDs = try c.decodeIfPresent([String].self, forKey: .sopClassUIDs)
        bodyParts = try c.decodeIfPresent([String].self, forKey: .bodyParts)
        kinds = try c.decodeIfPresent([String].self, forKey: .kinds)
        channels = try c.decodeIfPresent(Int.self, forKey: .channels)
        minDepth = try c.decodeIfPresent(Int.self, forKey: .minDepth)
        maxDepth = try c.decodeIfPresent(Int.self, forKey: .maxDepth)
        models = try c.decodeIfPresent([String].self, forKey: .models) ?? []
        hold = try c.decodeIfPresent(Bool.self, forKey: .hold) ?? false
    }

    public func matches(_ volume: Volume) -> Bool {
        let m = volume.metadata
        return Self.matches(modalities, m.modality) && Self.matches(sopClassUIDs, m.sopClassUID)
            && Self.matches(bodyParts, m.bodyPart) && Self.matches(kinds, m.kind)
            && (channels.map { $0 == volume.shape.channels } ?? true)
            && (minDepth.map { volume.shape.depth >= $0 } ?? true)
            && (maxDepth.map { volume.shape.depth <= $0 } ?? true)
    }

    private static func matches(_ allowed: [String]?, _ value: String?) -> Bool {
        guard let allowed else { return true }
        guard let value else { return false }
        return allowed.contains { $0.caseInsensitiveCompare(value) == .orderedSame }
    }
}
