import ArgumentParser
import CompSegNN

@main
struct CompSeg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compseg",
        abstract: "Train segmenting networks from image-level labels (CompSegNet) and apply them.",
        version: "0.1.0",
        subcommands: [])
}
