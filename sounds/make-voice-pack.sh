#!/usr/bin/env bash
# Regenerates the synthetic voice pack in this directory (sounds/zh, sounds/en,
# sounds/chime.wav) from Debian's espeak-ng and sox.
#
#   apt-get update && apt-get install -y espeak-ng sox
#   bash sounds/make-voice-pack.sh            # writes next to this script
#   bash sounds/make-voice-pack.sh OUT_DIR    # or into another directory
#   bash sounds/make-voice-pack.sh --normalize REC_DIR OUT_DIR
#                       # trim + loudness-match a recorded (human) pack that
#                       # uses the same file names (see README.md); needs sox only
#
# Every clip is: synthesised -> leading/trailing silence trimmed (below 1 % of
# full scale, i.e. -40 dBFS: espeak-ng pads every utterance with ~0.2 s of
# silence, which is what made clip-by-clip sentences 20 % longer than one
# utterance) -> resampled to 22050 Hz mono 16-bit -> RMS loudness matched to
# TARGET_RMS_DB (peak capped at PEAK_CAP_DB) -> 5 ms fade in / 10 ms fade out
# (no clicks when joined). No dither (-D): the output is byte-for-byte
# reproducible.
#
# Fixed phrases that templates use often (号到, 号窗口, 号窗口办理, please go to
# window, is now open, is paused) are also
# synthesised as ONE utterance each, so the default sentence is mostly said
# the way espeak-ng says it in one go; the announcer prefers the longest clip
# that matches a template's text. sounds/reference/ holds whole sentences
# synthesised in one utterance, trimmed the same way: the announcer's tests
# check that a composed sentence is at most 1.15x as long as these.
#
# Mandarin: Debian's plain `cmn` voice reads Hanzi through its pinyin dictionary
# and then speaks the pinyin letters as English ("hao four"), so Hanzi are
# spoken with its sibling voice `cmn-latn-pinyin` (same Mandarin phonemes and
# tones, Latin read as pinyin). Latin letters of ticket numbers are spoken with
# `cmn` (Latin read as English letter names, Mandarin-style: A -> ei51), which
# is how letters are read out in Chinese halls.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NORMALIZE_FROM=""
if [ "${1:-}" = "--normalize" ]; then
    NORMALIZE_FROM="${2:?usage: make-voice-pack.sh --normalize REC_DIR OUT_DIR}"
    OUT="${3:?usage: make-voice-pack.sh --normalize REC_DIR OUT_DIR}"
else
    OUT="${1:-$HERE}"
fi
RATE="${RATE:-22050}"
TARGET_RMS_DB=-20
PEAK_CAP_DB=-1
TRIM=1%
ZH_SPEED=150
EN_SPEED=150

tools="espeak-ng sox"
[ -n "$NORMALIZE_FROM" ] && tools="sox"
for tool in $tools; do
    command -v "$tool" >/dev/null || {
        echo "missing $tool: apt-get update && apt-get install -y espeak-ng sox" >&2
        exit 1
    }
done

export LC_ALL=C
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT/zh" "$OUT/en" "$OUT/reference"

# stat_db FILE FIELD -> value of "RMS lev dB" / "Pk lev dB" from `sox stats`.
stat_db() {
    sox "$1" -n stats 2>&1 | awk -v f="$2" 'index($0, f) == 1 { print $NF }'
}

# finish RAW_WAV OUT_WAV: trim, resample, loudness-match, fade.
finish() {
    local raw="$1" out="$2" trimmed="$TMP/trimmed.wav"
    sox -D "$raw" -r "$RATE" -c 1 -b 16 "$trimmed" \
        silence 1 0.005 "$TRIM" reverse silence 1 0.005 "$TRIM" reverse
    local rms pk gain
    rms="$(stat_db "$trimmed" "RMS lev dB")"
    pk="$(stat_db "$trimmed" "Pk lev dB")"
    gain="$(awk -v r="$rms" -v p="$pk" -v t="$TARGET_RMS_DB" -v c="$PEAK_CAP_DB" \
        'BEGIN { g = t - r; if (p + g > c) g = c - p; printf "%.2f", g }')"
    sox -D "$trimmed" -r "$RATE" -c 1 -b 16 "$out" gain "$gain" fade t 0.005 -0 0.01
}

# say VOICE SPEED TEXT OUT_WAV
say() {
    local voice="$1" speed="$2" text="$3" out="$4"
    espeak-ng -v "$voice" -s "$speed" -w "$TMP/raw.wav" -- "$text"
    finish "$TMP/raw.wav" "$out"
    echo "$out  <- [$voice] $text"
}

if [ -n "$NORMALIZE_FROM" ]; then
    (cd "$NORMALIZE_FROM" && find . -name '*.wav' | sort) | while read -r f; do
        mkdir -p "$OUT/$(dirname "$f")"
        finish "$NORMALIZE_FROM/$f" "$OUT/$f"
        echo "$OUT/$f  <- $NORMALIZE_FROM/$f"
    done
    exit 0
fi

# --- Mandarin ---------------------------------------------------------------
zh_digits=(零 一 二 三 四 五 六 七 八 九)
for d in 0 1 2 3 4 5 6 7 8 9; do
    say cmn-latn-pinyin "$ZH_SPEED" "${zh_digits[$d]}" "$OUT/zh/digit_$d.wav"
done
say cmn-latn-pinyin "$ZH_SPEED" "十" "$OUT/zh/shi.wav"
say cmn-latn-pinyin "$ZH_SPEED" "百" "$OUT/zh/bai.wav"
say cmn-latn-pinyin "$ZH_SPEED" "千" "$OUT/zh/qian.wav"
say cmn-latn-pinyin "$ZH_SPEED" "万" "$OUT/zh/wan.wav"
say cmn-latn-pinyin "$ZH_SPEED" "两" "$OUT/zh/liang.wav"
say cmn-latn-pinyin "$ZH_SPEED" "请" "$OUT/zh/qing.wav"
say cmn-latn-pinyin "$ZH_SPEED" "号" "$OUT/zh/hao.wav"
say cmn-latn-pinyin "$ZH_SPEED" "到" "$OUT/zh/dao.wav"
say cmn-latn-pinyin "$ZH_SPEED" "窗口" "$OUT/zh/chuangkou.wav"
say cmn-latn-pinyin "$ZH_SPEED" "办理" "$OUT/zh/banli.wav"
say cmn-latn-pinyin "$ZH_SPEED" "潮汐窗口已开放" "$OUT/zh/tidal_opened.wav"
say cmn-latn-pinyin "$ZH_SPEED" "暂停服务" "$OUT/zh/paused.wav"
# Window names other than 窗口 (3号台, 2号室, 5号柜台) and 前往 for templates.
say cmn-latn-pinyin "$ZH_SPEED" "台" "$OUT/zh/tai.wav"
say cmn-latn-pinyin "$ZH_SPEED" "室" "$OUT/zh/room.wav"
say cmn-latn-pinyin "$ZH_SPEED" "柜台" "$OUT/zh/guitai.wav"
say cmn-latn-pinyin "$ZH_SPEED" "前往" "$OUT/zh/qianwang.wav"
# Phrases, each in one utterance (see the header).
say cmn-latn-pinyin "$ZH_SPEED" "号到" "$OUT/zh/hao_dao.wav"
say cmn-latn-pinyin "$ZH_SPEED" "号窗口" "$OUT/zh/hao_chuangkou.wav"
say cmn-latn-pinyin "$ZH_SPEED" "号窗口办理" "$OUT/zh/hao_chuangkou_banli.wav"
for l in {A..Z}; do
    say cmn "$ZH_SPEED" "$l" "$OUT/zh/letter_$l.wav"
done

# --- English ----------------------------------------------------------------
en_small=(zero one two three four five six seven eight nine ten eleven twelve
    thirteen fourteen fifteen sixteen seventeen eighteen nineteen)
for n in $(seq 0 19); do
    if [ "$n" -lt 10 ]; then name="digit_$n"; else name="n_$n"; fi
    say en-us "$EN_SPEED" "${en_small[$n]}" "$OUT/en/$name.wav"
done
en_tens=([2]=twenty [3]=thirty [4]=forty [5]=fifty [6]=sixty [7]=seventy [8]=eighty [9]=ninety)
for t in 2 3 4 5 6 7 8 9; do
    say en-us "$EN_SPEED" "${en_tens[$t]}" "$OUT/en/n_${t}0.wav"
done
for w in hundred thousand number please go to window is now open paused counter room; do
    say en-us "$EN_SPEED" "$w" "$OUT/en/$w.wav"
done
# Phrases, each in one utterance (see the header).
say en-us "$EN_SPEED" "please go to window" "$OUT/en/please_go_to_window.wav"
say en-us "$EN_SPEED" "is now open" "$OUT/en/is_now_open.wav"
say en-us "$EN_SPEED" "is paused" "$OUT/en/is_paused.wav"
for l in {A..Z}; do
    # Lower-case with a trailing period so espeak says the letter's name.
    say en-us "$EN_SPEED" "${l}." "$OUT/en/letter_$l.wav"
done

# --- Reference sentences, each synthesised in ONE utterance ------------------
# Not part of the pack: test fixtures (crates/announcer/tests/voice.rs compares
# the composed sentences' length with these).
say cmn-latn-pinyin "$ZH_SPEED" "请A零一二号到十二号窗口办理" "$OUT/reference/zh_A012_w12.wav"
say cmn-latn-pinyin "$ZH_SPEED" "请A一零五号到二十一号窗口办理" "$OUT/reference/zh_A105_w21.wav"
say en-us "$EN_SPEED" "Number A zero one two, please go to window twelve" \
    "$OUT/reference/en_A012_w12.wav"

# --- Chime: two-tone "ding-dong" (E5 then C5), decaying sines ---------------
# Its RMS is set to the voice's (TARGET_RMS_DB); the announcer also matches
# the chime of any loaded pack to its voice at load time.
sox -D -n -r "$RATE" -c 1 -b 16 "$TMP/ding.wav" synth 0.55 sine 659.25 \
    fade q 0.005 0.55 0.5 gain -12
sox -D -n -r "$RATE" -c 1 -b 16 "$TMP/dong.wav" synth 0.85 sine 523.25 \
    fade q 0.005 0.85 0.8 gain -12
sox -D "$TMP/ding.wav" "$TMP/dong.wav" "$TMP/chime.wav"
rms="$(stat_db "$TMP/chime.wav" "RMS lev dB")"
sox -D "$TMP/chime.wav" "$OUT/chime.wav" gain "$(awk -v r="$rms" -v t="$TARGET_RMS_DB" 'BEGIN { printf "%.2f", t - r }')"
echo "$OUT/chime.wav  <- sox synth 659.25 Hz + 523.25 Hz, RMS $TARGET_RMS_DB dBFS"
