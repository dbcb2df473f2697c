// HLSCore: pure Swift models (playlists, ladder arithmetic, subtitles). No C imports.
public enum HLSCore {}
