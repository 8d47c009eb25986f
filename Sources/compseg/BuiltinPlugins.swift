import CompSegCore
import CompSegNetHead

/// The one place that registers the plugins built into the `compseg` tool.
func builtinRegistry() throws -> Registry {
    var registry = Registry()
    try CompSegNetHead.register(in: &registry)
    return registry
}
