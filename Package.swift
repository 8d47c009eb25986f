// swift-tools-version:6.0
import Foundation
import PackageDescription

/// System libraries: each is a module map over Debian's `-dev` package plus a header-only shim
/// for what Swift cannot call directly (macros, variadic functions). `scripts/setup.sh` installs them.
func systemLibrary(_ name: String, pkgConfig: String? = nil, apt: [String]) -> Target {
    .systemLibrary(name: name, path: "Sources/\(name)", pkgConfig: pkgConfig, providers: [.apt(apt)])
}

/// The built-in modality manifests in `modalities/`, shipped as resources. Listed by name, not
/// found by listing the folder: SwiftPM reads this file again only when its text changes, so a
/// new manifest is added here (a test checks that every `modalities/*.yaml` is).
let modalityManifests = ["he.yaml", "infrared.yaml", "raman.yaml"]

let package = Package(
    name: "CompSeg",
    products: [
        .executable(name: "compseg", targets: ["compseg"]),
        .library(name: "CompSegCore", targets: ["CompSegCore"]),
        .library(name: "CompSegNN", targets: ["CompSegNN"]),
        .library(name: "CompSegIO", targets: ["CompSegIO"]),
        // TrainingRun (a run's life in its folder), the trainer, evaluation and reports, for programs outside the package.
        .library(name: "CompSegTraining", targets: ["CompSegTraining"]),
        // The built-in plugins and `builtinRegistry()`, for programs that train and compare with them beside their own.
        .library(name: "CompSegPlugins", targets: ["BuiltinPlugins", "CompSegNetHead", "AlternativeHeads", "UNetTopology", "SegNetTopology",
                                                    "InfraredModality", "RamanModality", "HEModality", "SpectralPreprocessing",
                                                    "SpectralFiles", "BuiltinModalities"]),
        // The `compseg` commands, run over a registry that holds a program's own plugins too (`CompSegTool.main(registry:)`).
        .library(name: "CompSegCLI", targets: ["CompSegCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        systemLibrary("CHDF5", pkgConfig: "hdf5-serial", apt: ["libhdf5-dev"]),
        systemLibrary("CTIFF", pkgConfig: "libtiff-4", apt: ["libtiff-dev"]),
        systemLibrary("CPNG", pkgConfig: "libpng", apt: ["libpng-dev"]),
        systemLibrary("COpenBLAS", pkgConfig: "openblas", apt: ["libopenblas-dev"]),
        systemLibrary("CDNNL", apt: ["libdnnl-dev"]),

        // Elementwise loops in C where Swift's would stay scalar (see its header).
        .target(name: "CKernels"),
        .target(name: "CompSegNN", dependencies: ["CDNNL", "COpenBLAS", "CKernels"]),
        .target(name: "CompSegCore", dependencies: ["CompSegNN", .product(name: "Yams", package: "Yams")]),
        .target(name: "CompSegIO", dependencies: ["CompSegNN", "CHDF5", "CTIFF", "CPNG"]),
        .target(name: "CompSegTraining", dependencies: ["CompSegCore", "CompSegNN", "CompSegIO", "CompSegFigures"]),
        .target(name: "CompSegFigures", dependencies: ["CompSegCore", "CompSegIO"]),
        .target(name: "CompSegDemo", dependencies: ["CompSegTraining", "Phantoms"]),
        // The synthetic infrared tissue microarray behind `compseg phantom`, `demo` and the tests.
        .target(name: "Phantoms", dependencies: ["CompSegCore", "CompSegNN", "CompSegIO", "SpectralPreprocessing"]),
        // The one place that registers the plugins built into `compseg`, for the tool and its tests.
        .target(name: "BuiltinPlugins", dependencies: ["CompSegCore", "CompSegNetHead", "AlternativeHeads", "UNetTopology",
                                                       "SegNetTopology", "InfraredModality", "RamanModality", "HEModality", "SpectralPreprocessing",
                                                       "BuiltinModalities"]),
        // Plugins depend on the core only and register through one entry point each.
        .target(name: "CompSegNetHead", dependencies: ["CompSegCore"], path: "Plugins/Heads/CompSegNet"),
        .target(name: "AlternativeHeads", dependencies: ["CompSegCore"], path: "Plugins/Heads/Alternatives"),
        .target(name: "UNetTopology", dependencies: ["CompSegCore"], path: "Plugins/Topologies/UNet"),
        .target(name: "SegNetTopology", dependencies: ["CompSegCore"], path: "Plugins/Topologies/SegNet"),
        .target(name: "BuiltinModalities", path: "modalities", resources: modalityManifests.map { .copy($0) }),
        .target(name: "SpectralPreprocessing", dependencies: ["CompSegCore", "COpenBLAS"], path: "Plugins/Modalities/Spectral"),
        // Reading spectral image files of every format into samples, shared by the spectral modalities.
        .target(name: "SpectralFiles", dependencies: ["CompSegCore", "CompSegIO", "CompSegNN", "SpectralPreprocessing"],
                path: "Plugins/Modalities/SpectralFiles"),
        .target(name: "InfraredModality", dependencies: ["CompSegCore", "SpectralFiles"], path: "Plugins/Modalities/Infrared"),
        .target(name: "RamanModality", dependencies: ["CompSegCore", "SpectralFiles"], path: "Plugins/Modalities/Raman"),
        .target(name: "HEModality", dependencies: ["CompSegCore", "CompSegIO", "CompSegNN"], path: "Plugins/Modalities/HE"),

        // The commands of the `compseg` tool, and the tool itself: `main` over the built-in plugins.
        .target(name: "CompSegCLI", dependencies: [
            "CompSegCore", "CompSegNN", "CompSegIO", "CompSegTraining", "BuiltinPlugins", "BuiltinModalities", "Phantoms", "SpectralFiles",
            "HEModality", "CKernels",
            "CompSegDemo", "CompSegFigures",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "compseg", dependencies: ["CompSegCLI"]),

        .target(name: "CompSegTestSupport", dependencies: ["CompSegNN", "CompSegCore", "CompSegIO"],
                path: "Tests/CompSegTestSupport"),
        .testTarget(name: "CompSegNNTests", dependencies: ["CompSegNN", "CompSegTestSupport"]),
        .testTarget(name: "CompSegCoreTests", dependencies: ["CompSegCore", "CompSegNetHead", "AlternativeHeads",
                                                              "CompSegTestSupport"]),
        .testTarget(name: "CompSegIOTests", dependencies: ["CompSegIO", "CompSegTestSupport"]),
        .testTarget(name: "TopologyTests", dependencies: ["UNetTopology", "SegNetTopology", "CompSegNetHead",
                                                          "CompSegTestSupport"]),
        .testTarget(name: "CompSegTrainingTests", dependencies: ["CompSegTraining", "UNetTopology", "SegNetTopology",
                                                                 "CompSegNetHead", "CompSegTestSupport"]),
        .testTarget(name: "ModalityTests", dependencies: ["InfraredModality", "Phantoms", "SpectralPreprocessing", "SpectralFiles",
                                                         "BuiltinModalities", "CompSegTraining", "CompSegIO", "RamanModality", "HEModality",
                                                         "CompSegTestSupport"]),
        .testTarget(name: "DemoTests", dependencies: ["CompSegDemo", "BuiltinPlugins", "Phantoms", "UNetTopology",
                                                      "CompSegNetHead"]),
        // Runs the built `compseg` executable (swift build --build-tests builds it beside the tests).
        .testTarget(name: "CLITests", dependencies: ["compseg", "CompSegIO", "CompSegTestSupport"]),
        .testTarget(name: "CompSegFiguresTests", dependencies: ["CompSegFigures"]),
        .target(name: "ExampleModality", dependencies: ["CompSegCore", "CompSegIO"], path: "Examples/ExampleModality"),
        .target(name: "ExampleTopology", dependencies: ["CompSegCore"], path: "Examples/ExampleTopology"),
        .target(name: "ExampleHead", dependencies: ["CompSegCore"], path: "Examples/ExampleHead"),
        // `compseg` with the three examples registered beside the built-in plugins.
        .executableTarget(name: "ExampleTool", dependencies: ["CompSegCLI", "BuiltinPlugins", "ExampleModality", "ExampleTopology",
                                                              "ExampleHead"], path: "Examples/ExampleTool", resources: [.copy("grey-spots.yaml")]),
        .testTarget(name: "DocsTests", dependencies: ["ExampleModality", "ExampleTopology", "ExampleHead", "CompSegTraining", "CompSegNetHead", "compseg",
                                                     "ExampleTool",
                                                     "CompSegTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
