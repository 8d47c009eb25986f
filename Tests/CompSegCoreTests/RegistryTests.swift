import Foundation
import Testing
import CompSegCore
import CompSegNN
import CompSegNetHead

@Suite struct RegistryTests {
    func registry() throws -> Registry {
        var r = Registry()
        try CompSegNetHead.register(in: &r)
        return r
    }

    @Test func findsByIdentifierAndAliasCaseInsensitively() throws {
        let r = try registry()
        #expect(try r.head("compsegnet") is CompSegNetHead)
        #expect(try r.head("Paper") is CompSegNetHead)
        #expect(r.heads.infos.map(\.identifier) == ["compsegnet"])
    }

    @Test func unknownIdentifierListsTheKnownOnes() throws {
        let r = try registry()
        #expect(throws: RegistryError("unknown pooling head 'lse'; known: compsegnet")) { try r.head("lse") }
        #expect(throws: RegistryError("unknown topology 'unet'; known: none registered")) {
            try r.topology("unet", inputChannels: 3, seed: 0)
        }
        // A name a few letters off an identifier or alias is suggested.
        #expect(throws: RegistryError("unknown pooling head 'compsgnet'; did you mean 'compsegnet'? known: compsegnet")) { try r.head("compsgnet") }
        #expect(throws: RegistryError("unknown pooling head 'papr'; did you mean 'paper'? known: compsegnet")) { try r.head("papr") }
        // As near an identifier as an alias: the identifier.
        var near = Registry()
        try near.registerHead(PluginInfo("he", aliases: ["h&e"], summary: "")) { _ in try CompSegNetHead() }
        #expect(near.heads.unknown("hee")?.contains("did you mean 'he'?") == true, "\(String(describing: near.heads.unknown("hee")))")
    }

    @Test func duplicateRegistrationIsRefused() throws {
        var r = try registry()
        #expect(throws: RegistryError("cannot register pooling head 'other': its alias 'paper' is an alias of the pooling head "
                                      + "'compsegnet' registered before it (one plugin registered twice, or two under one name)")) {
            try r.registerHead(PluginInfo("other", aliases: ["paper"], summary: "")) { _ in try CompSegNetHead() }
        }
        #expect(throws: RegistryError("cannot register pooling head 'CompSegNet': its identifier is the identifier of the pooling head "
                                      + "'compsegnet' registered before it (one plugin registered twice, or two under one name)")) {
            try r.registerHead(PluginInfo("CompSegNet", summary: "")) { _ in try CompSegNetHead() }
        }
        #expect(r.heads.identifier("PAPER") == "compsegnet" && r.heads.identifier("unknown") == "unknown")
    }

    @Test func configurationKeysAreCheckedAndDefaultsFilled() throws {
        let partial = PluginConfiguration(json: Data(#"{"alpha": 0.2}"#.utf8), source: "run.yaml: head")
        let c = try partial.decode(CompSegNetHead.Configuration.self)
        #expect(c.alpha == 0.2 && c.beta == 5 && c.gamma == 0.001 && c.reduction == .sum)

        let unknown = PluginConfiguration(json: Data(#"{"alpah": 0.2}"#.utf8), source: "run.yaml: head")
        #expect(throws: ConfigurationError(source: "run.yaml: head",
                                           message: "unknown key 'alpah'; did you mean 'alpha'? known keys: alpha, beta, gamma, reduction")) {
            try unknown.decode(CompSegNetHead.Configuration.self)
        }
        let wrongType = PluginConfiguration(json: Data(#"{"beta": "five"}"#.utf8), source: "cli")
        #expect(throws: ConfigurationError(source: "cli", message: "key 'beta': expected a number, got the text 'five'")) {
            try wrongType.decode(CompSegNetHead.Configuration.self)
        }
    }

    /// Names keep their registered spelling and are found in any case; a sample's id is its file's
    /// name without the extension (and without OME-TIFF's `.ome`).
    @Test func namesAndIDs() throws {
        var registry = Registry()
        try registry.registerHead(PluginInfo("camelHead", aliases: ["Camel"], summary: "test")) { _ in try CompSegNetHead() }
        #expect(registry.heads.infos.map(\.identifier) == ["camelHead"])
        #expect(try registry.heads.factory("CAMELHEAD").0.identifier == "camelHead")
        #expect(try registry.heads.factory("camel").0.identifier == "camelHead")
        #expect(throws: RegistryError.self) { try registry.registerHead(PluginInfo("CAMEL", summary: "clash")) { _ in try CompSegNetHead() } }
        #expect(Sample.id(of: URL(fileURLWithPath: "/d/spot1.ome.tif")) == "spot1" && Sample.id(of: URL(fileURLWithPath: "/d/a.b.png")) == "a.b")
        #expect(Sample.id(of: URL(fileURLWithPath: "/d/.ome.tif")) == ".ome")
    }
}

extension RegistryError: Equatable {
    public static func == (a: RegistryError, b: RegistryError) -> Bool { a.description == b.description }
}
extension ConfigurationError: Equatable {
    public static func == (a: ConfigurationError, b: ConfigurationError) -> Bool { a.description == b.description }
}

@Suite struct OptionalKeyTests {
    struct Options: Codable, Equatable {
        var start: Float? = 0.02
        var name = "x"
        init() {}
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            start = c.contains(.start) ? try c.decodeIfPresent(Float.self, forKey: .start) : 0.02
            name = try c.decodeIfPresent(String.self, forKey: .name) ?? "x"
        }
    }

    /// A key set to null (an optional turned off) is known, though it encodes to nothing.
    @Test func nullForAnOptionalKeyIsAccepted() throws {
        let o = try PluginConfiguration(json: Data(#"{"start": null}"#.utf8)).decode(Options.self)
        #expect(o.start == nil && o.name == "x")
        #expect(throws: ConfigurationError.self) { try PluginConfiguration(json: Data(#"{"strat": null}"#.utf8)).decode(Options.self) }
    }
}
