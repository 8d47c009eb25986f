// Writes MaskPolygons' GeoJSON for a mask given as text rows of `#` (foreground) and `.` on stdin;
// the writer behind Tests/Fixtures/geojson (tools/make_geojson_fixtures.py compiles and runs it).
// Builds without SwiftPM, from the two Foundation-only files it needs:
//   swiftc -O -module-name CompSegIO tools/write_mask_geojson.swift Sources/CompSegIO/MaskPolygons.swift \
//          Sources/CompSegIO/{IOError,Folders,DurableWrites,Interruption}.swift -o /tmp/write_mask_geojson
// Usage: write_mask_geojson OUT.geojson [--scale S] [--origin X Y] [--connectivity eight|four]
//                           [--name NAME] [--colour R G B] < mask.txt
import Foundation

@main
enum WriteMaskGeoJSON {
    static func main() throws {
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard let output = arguments.first else {
            FileHandle.standardError.write(Data("usage: write_mask_geojson OUT.geojson [options] < mask.txt\n".utf8))
            exit(2)
        }
        arguments.removeFirst()
        var scale = 1.0, origin = (x: 0.0, y: 0.0), connectivity = MaskPolygons.Connectivity.eight
        var name = "Tumor", colour: (red: UInt8, green: UInt8, blue: UInt8) = (200, 0, 0)
        while let option = arguments.first {
            arguments.removeFirst()
            func value() -> String { arguments.removeFirst() }
            switch option {
            case "--scale": scale = Double(value())!
            case "--origin": origin = (Double(value())!, Double(value())!)
            case "--connectivity": connectivity = value() == "four" ? .four : .eight
            case "--name": name = value()
            case "--colour": colour = (UInt8(value())!, UInt8(value())!, UInt8(value())!)
            default: fatalError("unknown option \(option)")
            }
        }
        let rows = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: "\n").map { Array($0) }
        let width = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == width }, "rows differ in length")
        let polygons = MaskPolygons(width: width, height: rows.count, pixels: rows.flatMap { $0.map { $0 == "#" } },
                                    connectivity: connectivity, scale: scale, origin: origin)
        try polygons.write(to: URL(fileURLWithPath: output), classification: name, colour: colour)
    }
}
