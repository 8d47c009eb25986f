import CompSegCore
import CompSegNetHead
import SegNetTopology
import UNetTopology

/// The one place that registers the plugins built into the `compseg` tool.
func builtinRegistry() throws -> Registry {
    var registry = Registry()
    try UNet.register(in: &registry)
    try SegNet.register(in: &registry)
    try CompSegNetHead.register(in: &registry)
    return registry
}
