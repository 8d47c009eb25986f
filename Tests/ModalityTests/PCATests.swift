import Foundation
import Testing
import CompSegNN
import SpectralPreprocessing

@Suite struct PCATests {
    /// Rank-2 data (two fixed spectra mixed with random weights, plus a mean): two components
    /// reconstruct it exactly (to float32 rounding), and a third has no variance.
    @Test func reconstructsRankTwoData() throws {
        var g = SeededGenerator(seed: 1)
        let b = 20, p = 200
        let u = (0..<b).map { Float(sin(Double($0) * 0.3)) }, v = (0..<b).map { Float(Double($0) / 20) }
        let mean = (0..<b).map { Float($0 % 3) }
        var pixels: [Float] = []
        for _ in 0..<p {
            let (a, c) = (3 * g.nextNormal(), g.nextNormal())
            for j in 0..<b {
                let mixed: Float = a * u[j] + c * v[j]
                pixels.append(mean[j] + mixed)
            }
        }
        let pca = try PCA(fitting: pixels, bands: b, components: 3)
        #expect(pca.variances[0] > pca.variances[1] && pca.variances[2] < 1e-4 * pca.variances[1])
        let scores = try pca.transform(pixels)
        var worst: Float = 0
        for i in 0..<p {
            for j in 0..<b {
                let rebuilt = pca.mean[j] + (0..<2).reduce(Float(0)) { $0 + scores[i * 3 + $1] * pca.components[$1 * b + j] }
                worst = max(worst, Swift.abs(rebuilt - pixels[i * b + j]))
            }
        }
        #expect(worst < 1e-3)  // values O(10); float32 covariance and eigenvectors
        // Components are orthonormal.
        for x in 0..<3 { for y in 0..<3 {
            let dot = (0..<b).reduce(Float(0)) { $0 + pca.components[x * b + $1] * pca.components[y * b + $1] }
            #expect(Swift.abs(dot - (x == y ? 1 : 0)) < 1e-4)
        } }
    }

    @Test func rejectsBadInput() {
        #expect(throws: SpectralError.self) { try PCA(fitting: [1, 2, 3], bands: 2, components: 1) }
        #expect(throws: SpectralError.self) { try PCA(fitting: [1, 2], bands: 2, components: 1) }
        #expect(throws: SpectralError.self) { try PCA(fitting: [1, 2, 3, 4], bands: 2, components: 3) }
    }
}
