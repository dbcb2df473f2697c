#!/usr/bin/env bash
# Makes the small media fixtures in this folder with the ffmpeg command line
# (lavfi testsrc2 + sine). Deterministic for a given ffmpeg/x264 build: the
# bitexact flags keep version strings and dates out of the containers.
#
#   Fixtures/make-fixtures.sh            (or: make fixtures)
#
# The generated files are committed; run this again only to change them.
# Every clip is 5 s (except audio-only, 3 s) so that --segment-duration 2
# gives three segments (2, 2, 1) and the default 4 gives two (4, 1).
set -euo pipefail

cd "$(dirname "$0")"
command -v ffmpeg >/dev/null || { echo "ffmpeg not found: run scripts/install-deps.sh" >&2; exit 1; }

DUR=5
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

FF=(ffmpeg -hide_banner -nostdin -loglevel error -y)
# Container and codec output without version strings or creation times.
BITEXACT=(-fflags +bitexact -flags:v +bitexact -flags:a +bitexact -map_metadata -1 -map_chapters -1)
# H.264 High, yuv420p, one thread so the bitstream does not depend on the core count.
X264=(-c:v libx264 -pix_fmt yuv420p -profile:v high -preset medium -threads 1)
AAC=(-c:a aac -b:a 64k -ac 2 -ar 48000)

# Fixed bitrates keep the folder small (testsrc2 is busy; quality does not matter here).
rate() { echo "-b:v $1 -maxrate $1 -bufsize $1"; }
# video SIZE RATE  -> lavfi input args for a testsrc2 clip
video() { echo "testsrc2=size=$1:rate=$2:duration=$DUR"; }
# stereo-ish audio: two sine tones, one per channel, same length as the video
audio_args() {
    echo "-f lavfi -i sine=frequency=440:sample_rate=48000:duration=$1"
    echo "-f lavfi -i sine=frequency=660:sample_rate=48000:duration=$1"
}
AMERGE=(-filter_complex "[1:a][2:a]amerge=inputs=2[a]" -map 0:v -map "[a]")

# 1920x1080 25 fps, stereo AAC tagged English.
"${FF[@]}" -f lavfi -i "$(video 1920x1080 25)" $(audio_args $DUR) "${AMERGE[@]}" \
    "${X264[@]}" $(rate 600k) -g 50 "${AAC[@]}" "${BITEXACT[@]}" \
    -metadata:s:a:0 language=eng -movflags +faststart landscape-1080p.mp4

# 1280x720 30 fps, stereo AAC, no language tag (mp4 says "und").
"${FF[@]}" -f lavfi -i "$(video 1280x720 30)" $(audio_args $DUR) "${AMERGE[@]}" \
    "${X264[@]}" $(rate 350k) -g 60 "${AAC[@]}" "${BITEXACT[@]}" landscape-720p.mp4

# Portrait phone video: coded 1280x720, display matrix rotating it a quarter turn
# clockwise (what phones write; ffprobe 5.1 reports rotation=-90). ffmpeg 5.1 has no
# -display_rotation: its "rotate" tag on a stream copy becomes the display matrix,
# with the angle counter-clockwise, so the tag is 270 here.
"${FF[@]}" -f lavfi -i "$(video 1280x720 30)" $(audio_args $DUR) "${AMERGE[@]}" \
    "${X264[@]}" $(rate 350k) -g 60 "${AAC[@]}" "${BITEXACT[@]}" "$TMP/portrait-coded-landscape.mp4"
"${FF[@]}" -i "$TMP/portrait-coded-landscape.mp4" -map 0 -c copy "${BITEXACT[@]}" \
    -metadata:s:v:0 rotate=270 portrait-rotated.mp4

# Truly portrait-coded 720x1280 30 fps with audio.
"${FF[@]}" -f lavfi -i "$(video 720x1280 30)" $(audio_args $DUR) "${AMERGE[@]}" \
    "${X264[@]}" $(rate 350k) -g 60 "${AAC[@]}" "${BITEXACT[@]}" portrait-720x1280.mp4

# 4:3 640x480 25 fps with audio.
"${FF[@]}" -f lavfi -i "$(video 640x480 25)" $(audio_args $DUR) "${AMERGE[@]}" \
    "${X264[@]}" $(rate 200k) -g 50 "${AAC[@]}" "${BITEXACT[@]}" 4x3-480p.mp4

# Non-square pixels: 720x576 coded, SAR 16:15, so it displays 768x576 (4:3).
"${FF[@]}" -f lavfi -i "$(video 720x576 25)" $(audio_args $DUR) "${AMERGE[@]}" \
    -vf setsar=16/15 "${X264[@]}" $(rate 200k) -g 50 "${AAC[@]}" "${BITEXACT[@]}" anamorphic-576p.mp4

# No audio stream at all: 1280x720 25 fps.
"${FF[@]}" -f lavfi -i "$(video 1280x720 25)" \
    "${X264[@]}" $(rate 350k) -g 50 "${BITEXACT[@]}" no-audio.mp4

# Smaller than the lowest rung (480p): 320x180 30 fps with audio.
"${FF[@]}" -f lavfi -i "$(video 320x180 30)" $(audio_args $DUR) "${AMERGE[@]}" \
    "${X264[@]}" $(rate 100k) -g 60 "${AAC[@]}" "${BITEXACT[@]}" small-320x180.mp4

# Variable frame rate: 30 fps for the first 2.5 s, then every other frame dropped
# (15 fps), timestamps kept as they were (-fps_mode vfr), mp4 timescale 30.
"${FF[@]}" -f lavfi -i "$(video 1280x720 30)" $(audio_args $DUR) \
    -filter_complex "[0:v]select='lt(t\,2.5)+not(mod(n\,2))'[v];[1:a][2:a]amerge=inputs=2[a]" \
    -map "[v]" -map "[a]" -fps_mode vfr \
    "${X264[@]}" $(rate 350k) -g 60 "${AAC[@]}" "${BITEXACT[@]}" -video_track_timescale 30 vfr.mp4

# Audio only (no video stream): 3 s stereo AAC.
"${FF[@]}" $(audio_args 3) -filter_complex "[0:a][1:a]amerge=inputs=2[a]" -map "[a]" \
    "${AAC[@]}" "${BITEXACT[@]}" audio-only.m4a

# Not media at all, despite the name.
printf 'This is not a video.\nIt is plain text with an .mp4 name, for the "bad input" tests.\n' > not-media.mp4

# English subtitles over the first 5 s (7 cues; one with two lines, one with markup).
cat > lecture.en.srt <<'EOF'
1
00:00:00,000 --> 00:00:00,700
Welcome to the lecture.

2
00:00:00,700 --> 00:00:01,400
Today: adaptive streaming.

3
00:00:01,500 --> 00:00:02,300
A video is cut into segments,
each a few seconds long.

4
00:00:02,300 --> 00:00:03,000
Every rendition cuts at the same instants.

5
00:00:03,100 --> 00:00:03,900
The player picks a <i>rendition</i> per segment.

6
00:00:03,900 --> 00:00:04,500
Slow network? Smaller picture.

7
00:00:04,500 --> 00:00:05,000
Thank you.
EOF

# Summary of what was made, as ffprobe sees it.
printf '%-24s %8s  %-10s %-6s %-5s %-8s %-7s %s\n' file bytes size sar rot fps frames audio
for f in *.mp4 *.m4a; do
    bytes=$(stat -c %s "$f")
    if ! ffprobe -v error "$f" >/dev/null 2>&1; then
        printf '%-24s %8s  (not media)\n' "$f" "$bytes"; continue
    fi
    v=$(ffprobe -v error -select_streams v:0 -count_frames \
        -show_entries stream=width,height,sample_aspect_ratio,avg_frame_rate,nb_read_frames:stream_side_data=rotation \
        -of default=nw=1 "$f" | tr '\n' ' ')
    a=$(ffprobe -v error -select_streams a:0 \
        -show_entries stream=codec_name,profile,channels,sample_rate:stream_tags=language \
        -of default=nw=1:nk=1 "$f" | tr '\n' ' ')
    get() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$v"; }
    size=""; [ -n "$(get width)" ] && size="$(get width)x$(get height)"
    printf '%-24s %8s  %-10s %-6s %-5s %-8s %-7s %s\n' "$f" "$bytes" "${size:--}" "$(get sample_aspect_ratio)" \
        "$(get rotation)" "$(get avg_frame_rate)" "$(get nb_read_frames)" "${a:-none}"
done
echo "total: $(du -cb -- * | tail -1 | cut -f1) bytes"
