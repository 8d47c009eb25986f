// A lab's own `compseg`: every command of the tool, over the built-in plugins and the lab's own
// (here the three examples), and a named modality manifest beside the built-in ones.
// See docs/using-compseg-as-a-library.md.
import BuiltinPlugins
import CompSegCLI
import ExampleHead
import ExampleModality
import ExampleTopology
import Foundation

CompSegTool.main(registry: {
    var registry = try builtinRegistry()
    try GreyscalePNGSource.register(in: &registry)
    try TinyFCN.register(in: &registry)
    try PowerMeanHead.register(in: &registry)
    return registry
}, modalities: ["grey-spots": Bundle.module.url(forResource: "grey-spots", withExtension: "yaml")!])
