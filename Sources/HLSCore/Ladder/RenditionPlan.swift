/// What to encode for one video rendition: output size, rate control and H.264 level.
public struct RenditionPlan: Sendable, Equatable, Codable {
    /// "720p", or e.g. "272p" for the own-size fallback; also a good directory name.
    public var name: String
    /// Output size in square pixels as displayed (rotation already applied): both even, at least 2.
    public var width: Int, height: Int
    public var encoder: EncoderSettings
    /// level_idc for the encoder: 31 for level 3.1, 40 for 4.0.
    public var h264Level: Int

    public init(name: String, width: Int, height: Int, encoder: EncoderSettings, h264Level: Int) {
        self.name = name
        self.width = width
        self.height = height
        self.encoder = encoder
        self.h264Level = h264Level
    }
}
