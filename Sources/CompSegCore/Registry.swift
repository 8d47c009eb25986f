import Foundation

/// What a plugin says about itself.
public struct PluginInfo: Sendable, Hashable {
    public let identifier: String
    public let aliases: [String]
    /// One line.
    public let summary: String
    public init(_ identifier: String, aliases: [String] = [], summary: String) {
        self.identifier = identifier; self.aliases = aliases; self.summary = summary
    }
}

/// The plugin kinds.
public enum PluginKind: String, Sendable, CaseIterable {
    case modality, topology, head = "pooling head", transform = "preprocessing step"
}

/// Plugins of one kind by identifier and alias.
public struct PluginTable<Factory>: Sendable where Factory: Sendable {
    public let kind: PluginKind
    private var entries: [(info: PluginInfo, make: Factory)] = []

    init(kind: PluginKind) { self.kind = kind }

    /// Registered plugins, sorted by identifier (names spelled as registered, matched in any case).
    public var infos: [PluginInfo] { entries.map(\.info).sorted { $0.identifier.lowercased() < $1.identifier.lowercased() } }

    mutating func add(_ info: PluginInfo, _ make: Factory) throws {
        for name in [info.identifier] + info.aliases {
            if let clash = entries.first(where: { $0.info.answers(to: name) }) {
                let what = name == info.identifier ? "its identifier" : "its alias '\(name)'"
                let other = clash.info.identifier.lowercased() == name.lowercased() ? "the identifier" : "an alias"
                throw RegistryError("cannot register \(kind.rawValue) '\(info.identifier)': \(what) is \(other) of the \(kind.rawValue) "
                                    + "'\(clash.info.identifier)' registered before it (one plugin registered twice, or two under one name)")
            }
        }
        entries.append((info, make))
    }

    /// Whether a plugin answers to `name` (identifier or alias, case-insensitive).
    public func knows(_ name: String) -> Bool { entries.contains { $0.info.answers(to: name) } }

    /// The factory for `name` (identifier or alias, case-insensitive).
    /// - Throws: `RegistryError` listing the known identifiers.
    public func factory(_ name: String) throws -> (PluginInfo, Factory) {
        guard let e = entries.first(where: { $0.info.answers(to: name) }) else { throw RegistryError(unknown(name)!) }
        return (e.info, e.make)
    }

    /// The identifier of the plugin that answers to `name` (an alias or another case names the
    /// same plugin); `name` itself where none does.
    public func identifier(_ name: String) -> String {
        entries.first { $0.info.answers(to: name) }?.info.identifier ?? name
    }

    /// Why no plugin answers to `name`, with the one it likely misspells and the known ones
    /// ("unknown topology 'segnt'; did you mean 'segnet'? known: segnet, unet"); nil when one does.
    /// A misspelling is one edit away, or two in names of 8 letters or more: short names are
    /// close to each other (resnet is two from segnet).
    public func unknown(_ name: String) -> String? {
        guard !knows(name) else { return nil }
        let known = infos.map(\.identifier)
        return "unknown \(kind.rawValue) '\(name)'; " + (nearest(name).map { "did you mean '\($0.name)'? " } ?? "")
            + "known: " + (known.isEmpty ? "none registered" : known.joined(separator: ", "))
    }

    /// The identifier or alias `name` likely misspells (as `unknown` suggests it), with its edit
    /// distance; nil where none is near.
    public func nearest(_ name: String) -> (name: String, distance: Int)? { nearestName(name, among: names) }

    /// Every identifier (rank 0) and alias (rank 1), for `nearestName`.
    public var names: [(name: String, rank: Int)] { infos.flatMap { info in [(info.identifier, 0)] + info.aliases.map { ($0, 1) } } }
}

/// The name among `candidates` that `name` likely misspells, with its edit distance: one edit
/// away, or two in names of 8 letters or more (short names are close to each other: resnet is
/// two from segnet); of names as near, the lower `rank` (an identifier before an alias: 'hee' →
/// he, not h&e), then alphabetically. nil where none is near.
public func nearestName(_ name: String, among candidates: [(name: String, rank: Int)]) -> (name: String, distance: Int)? {
    candidates.compactMap { n, rank in editDistance(name, n, shortest: 2).flatMap { $0 <= (name.count >= 8 ? 2 : 1) ? (n, $0, rank) : nil } }
        .min { ($0.1, $0.2, $0.0) < ($1.1, $1.2, $1.0) }.map { ($0.0, $0.1) }
}

extension PluginInfo {
    /// Whether `name` is this plugin's identifier or one of its aliases, in any case.
    func answers(to name: String) -> Bool {
        ([identifier] + aliases).contains { $0.lowercased() == name.lowercased() }
    }
}

public struct RegistryError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Every modality reader, topology, pooling head and preprocessing step by identifier. Plugins register themselves
/// (`SomePlugin.register(in:)`); the core knows none of them.
public struct Registry: Sendable {
    public typealias ModalityFactory = @Sendable (PluginConfiguration) throws -> any ImageSource
    public typealias TopologyFactory = @Sendable (_ inputChannels: Int, _ seed: UInt64, PluginConfiguration) throws -> any SegmentingNetwork
    public typealias HeadFactory = @Sendable (PluginConfiguration) throws -> any PoolingHead
    public typealias TransformFactory = @Sendable (PluginConfiguration) throws -> any SampleTransform
    /// Checks a topology's settings without making the network (its weights can be large).
    public typealias TopologyCheck = @Sendable (PluginConfiguration) throws -> Void

    public private(set) var modalities = PluginTable<ModalityFactory>(kind: .modality)
    public private(set) var topologies = PluginTable<TopologyFactory>(kind: .topology)
    public private(set) var heads = PluginTable<HeadFactory>(kind: .head)
    public private(set) var transforms = PluginTable<TransformFactory>(kind: .transform)
    private var topologyChecks: [String: TopologyCheck] = [:]

    public init() {}

    public mutating func registerModality(_ info: PluginInfo, _ make: @escaping ModalityFactory) throws {
        try modalities.add(info, make)
    }
    /// - Parameter check: validates a configuration without making the network, for
    ///   `checkTopology`; without one, that makes the network for one input channel.
    public mutating func registerTopology(_ info: PluginInfo, check: TopologyCheck? = nil, _ make: @escaping TopologyFactory) throws {
        try topologies.add(info, make)
        topologyChecks[info.identifier.lowercased()] = check
    }
    public mutating func registerHead(_ info: PluginInfo, _ make: @escaping HeadFactory) throws {
        try heads.add(info, make)
    }

    public mutating func registerTransform(_ info: PluginInfo, _ make: @escaping TransformFactory) throws {
        try transforms.add(info, make)
    }

    public func modality(_ name: String, _ configuration: PluginConfiguration = .init()) throws -> any ImageSource {
        try modalities.factory(name).1(configuration)
    }
    public func topology(_ name: String, inputChannels: Int, seed: UInt64,
                         _ configuration: PluginConfiguration = .init()) throws -> any SegmentingNetwork {
        try topologies.factory(name).1(inputChannels, seed, configuration)
    }
    /// Throws what is wrong with `configuration` for the topology `name`, before any data are
    /// read: by the plugin's check, or by making the network for one input channel.
    public func checkTopology(_ name: String, _ configuration: PluginConfiguration = .init()) throws {
        let (info, make) = try topologies.factory(name)
        if let check = topologyChecks[info.identifier.lowercased()] { try check(configuration) } else { _ = try make(1, 0, configuration) }
    }
    public func head(_ name: String, _ configuration: PluginConfiguration = .init()) throws -> any PoolingHead {
        try heads.factory(name).1(configuration)
    }
    public func transform(_ name: String, _ configuration: PluginConfiguration = .init()) throws -> any SampleTransform {
        try transforms.factory(name).1(configuration)
    }
}
