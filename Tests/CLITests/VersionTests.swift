import Testing

/// `compseg --version`: the version, the CPU kernels and how 3×3 convolutions run, and whether CUDA loads.
@Suite struct VersionTests {
    @Test func namesTheKernelsItRunsOn() throws {
        let r = try CLI().run(["--version"])
        #expect(r.status == 0, "\(r.output)")
        let lines = r.output.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("compseg ") == true, "\(r.output)")
        #expect(lines.contains { $0.hasPrefix("cpu: oneDNN ") && $0.contains(" kernels; 3×3 convolutions: ")
            && ($0.contains("Winograd") || $0.contains("direct")) }, "\(r.output)")
        #expect(lines.contains { $0.hasPrefix("cuda: ") }, "\(r.output)")
    }
}
