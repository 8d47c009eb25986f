import Testing
@testable import CompSegCore

@Suite struct MemoryTests {
    @Test func workBeyondTheMemoryIsRefusedSayingHowMuch() throws {
        try requireMemory(8e9, for: "x", "y", available: 8_000_000_000, groupLimit: nil)
        #expect(throws: MemoryShortage(description: "a cube needs 12 GB of memory, more than this machine's 8.0 GB; crop it")) {
            try requireMemory(12e9, for: "a cube", "crop it", available: 8_000_000_000, groupLimit: nil)
        }
        // A container's or a job's limit (cgroup) below the machine's memory is the one that counts.
        #expect(throws: MemoryShortage(description: "a cube needs 3.0 GB of memory, more than this process's control group (a container's "
                                       + "or job's memory limit) allows 2.0 GB; crop it")) {
            try requireMemory(3e9, for: "a cube", "crop it", available: 8_000_000_000, groupLimit: 2e9)
        }
        #expect([512, 1500, 2.5e6, 8.1e13].map(byteCount) == ["512 bytes", "1.5 kB", "2.5 MB", "81 TB"])
    }

    /// The first convolution takes every input channel: a cube of 12 million bands (or a damaged
    /// model.json's count) is refused before its weights are made, which would end the process.
    @Test func aNetworkOnMillionsOfChannelsIsRefused() throws {
        try requireNetworkMemory(1e6, inputChannels: 450, width: 64, of: "a U-Net")
        #expect(throws: MemoryShortage.self) { try requireNetworkMemory(1e6, inputChannels: 12_000_000, width: 64, of: "a U-Net") }
        do {
            try requireNetworkMemory(1e6, inputChannels: 1_000_000_000_000, width: 64, of: "a U-Net")
            Issue.record("a trillion input channels were not refused")
        } catch {
            #expect("\(error)".hasPrefix("a U-Net on 1000000000000 input channels (about ") && "\(error)".contains("fewer input channels"), "\(error)")
        }
    }
}
