import AlternativeHeads
import CompSegCore
import CompSegNetHead
import InfraredModality
import SegNetTopology
import UNetTopology

/// The one place that registers the plugins built into the `compseg` tool.
func builtinRegistry() throws -> Registry {
    var registry = Registry()
    try InfraredSource.register(in: &registry)
    try UNet.register(in: &registry)
    try SegNet.register(in: &registry)
    try CompSegNetHead.register(in: &registry)
    try TrapezoidHead.register(in: &registry)
    try SizeHead.register(in: &registry)
    try LSEHead.register(in: &registry)
    try TopKHead.register(in: &registry)
    return registry
}
