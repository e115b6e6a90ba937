//! How numbers are read out: Mandarin cardinals (窗口号), English cardinals,
//! and ticket numbers character by character.
//!
//! Mandarin rules followed (普通话读数):
//! - 10–19 at the head of a number drop the 一: 10 → 十, 12 → 十二, but
//!   110 → 一百一十, 100010 → 十万零一十.
//! - one 零 for each run of inner zeros: 101 → 一百零一, 1001 → 一千零一,
//!   1010 → 一千零一十, 10001 → 一万零一; trailing zeros are silent: 1100 → 一千一百.
//! - 2 before 千 / 万 is 两 (两千, 两万, 两千万); elsewhere 二 (二号, 二十, 二百, 十二万).
//! - up to 9999 9999 with 万; larger numbers are read digit by digit.

use crate::clips::{ClipId, EN_DIGITS, EN_TEENS, EN_TENS, ZH_DIGITS};

/// Mandarin cardinal reading of `n` as clips (no gaps).
pub fn zh_cardinal(n: u64) -> Vec<ClipId> {
    let mut out = Vec::new();
    if n == 0 {
        out.push(ClipId::ZhDigit0);
    } else if n >= 100_000_000 {
        zh_digits(n, &mut out);
    } else {
        let high = n / 10_000;
        let low = n % 10_000;
        if high > 0 {
            if high == 2 {
                out.push(ClipId::ZhLiang);
            } else {
                zh_section(high, true, &mut out);
            }
            out.push(ClipId::ZhWan);
            if low > 0 {
                if low < 1000 {
                    out.push(ClipId::ZhDigit0);
                }
                zh_section(low, false, &mut out);
            }
        } else {
            zh_section(low, true, &mut out);
        }
    }
    out
}

/// Reads 1..=9999. `head` is true when nothing was said before it.
fn zh_section(n: u64, head: bool, out: &mut Vec<ClipId>) {
    const UNITS: [Option<ClipId>; 4] = [
        Some(ClipId::ZhQian),
        Some(ClipId::ZhBai),
        Some(ClipId::ZhShi),
        None,
    ];
    let digits = [n / 1000 % 10, n / 100 % 10, n / 10 % 10, n % 10];
    let mut started = false;
    let mut pending_zero = false;
    for (i, (&d, unit)) in digits.iter().zip(UNITS).enumerate() {
        if d == 0 {
            pending_zero |= started;
            continue;
        }
        if pending_zero {
            out.push(ClipId::ZhDigit0);
            pending_zero = false;
        }
        let drop_yi = i == 2 && d == 1 && head && !started;
        if !drop_yi {
            out.push(if d == 2 && i == 0 {
                ClipId::ZhLiang
            } else {
                ZH_DIGITS[d as usize]
            });
        }
        if let Some(u) = unit {
            out.push(u);
        }
        started = true;
    }
}

/// Mandarin digit-by-digit reading (一 零 一), as for ticket numbers.
pub fn zh_digits(n: u64, out: &mut Vec<ClipId>) {
    for b in n.to_string().bytes() {
        out.push(ZH_DIGITS[usize::from(b - b'0')]);
    }
}

/// English cardinal reading (American style, no "and"): 101 → one hundred one.
/// Up to 999 999; larger numbers are read digit by digit.
pub fn en_cardinal(n: u64) -> Vec<ClipId> {
    let mut out = Vec::new();
    if n == 0 {
        out.push(ClipId::EnDigit0);
    } else if n >= 1_000_000 {
        for b in n.to_string().bytes() {
            out.push(EN_DIGITS[usize::from(b - b'0')]);
        }
    } else {
        let thousands = n / 1000;
        let rest = n % 1000;
        if thousands > 0 {
            en_below_1000(thousands, &mut out);
            out.push(ClipId::EnThousand);
        }
        if rest > 0 {
            en_below_1000(rest, &mut out);
        }
    }
    out
}

fn en_below_1000(n: u64, out: &mut Vec<ClipId>) {
    let hundreds = n / 100;
    let rest = n % 100;
    if hundreds > 0 {
        out.push(EN_DIGITS[hundreds as usize]);
        out.push(ClipId::EnHundred);
    }
    match rest {
        0 => {}
        1..=9 => out.push(EN_DIGITS[rest as usize]),
        10..=19 => out.push(EN_TEENS[(rest - 10) as usize]),
        _ => {
            out.push(EN_TENS[(rest / 10 - 2) as usize]);
            let ones = (rest % 10) as usize;
            if ones != 0 {
                out.push(EN_DIGITS[ones]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zh(n: u64) -> String {
        zh_cardinal(n).iter().map(|c| c.text()).collect()
    }

    fn en(n: u64) -> String {
        en_cardinal(n)
            .iter()
            .map(|c| c.text())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn mandarin_cardinals() {
        let cases: &[(u64, &str)] = &[
            (0, "零"),
            (1, "一"),
            (2, "二"),
            (3, "三"),
            (7, "七"),
            (10, "十"),
            (11, "十一"),
            (12, "十二"),
            (19, "十九"),
            (20, "二十"),
            (21, "二十一"),
            (22, "二十二"),
            (30, "三十"),
            (99, "九十九"),
            (100, "一百"),
            (101, "一百零一"),
            (105, "一百零五"),
            (110, "一百一十"),
            (111, "一百一十一"),
            (119, "一百一十九"),
            (120, "一百二十"),
            (200, "二百"),
            (202, "二百零二"),
            (220, "二百二十"),
            (999, "九百九十九"),
            (1000, "一千"),
            (1001, "一千零一"),
            (1010, "一千零一十"),
            (1011, "一千零一十一"),
            (1100, "一千一百"),
            (1101, "一千一百零一"),
            (1110, "一千一百一十"),
            (2000, "两千"),
            (2002, "两千零二"),
            (2020, "两千零二十"),
            (2222, "两千二百二十二"),
            (9999, "九千九百九十九"),
            (10_000, "一万"),
            (10_001, "一万零一"),
            (10_010, "一万零一十"),
            (10_100, "一万零一百"),
            (11_000, "一万一千"),
            (12_345, "一万两千三百四十五"),
            (20_000, "两万"),
            (22_000, "两万两千"),
            (100_000, "十万"),
            (100_010, "十万零一十"),
            (120_000, "十二万"),
            (220_000, "二十二万"),
            (1_000_000, "一百万"),
            (1_001_000, "一百万一千"),
            (1_000_100, "一百万零一百"),
            (20_000_000, "两千万"),
            (12_345_678, "一千二百三十四万五千六百七十八"),
            (99_999_999, "九千九百九十九万九千九百九十九"),
            (100_000_000, "一零零零零零零零零"),
        ];
        for &(n, want) in cases {
            assert_eq!(zh(n), want, "{n}");
        }
    }

    #[test]
    fn mandarin_never_says_two_zeros_in_a_row_or_ends_in_zero() {
        for n in (1..=20_000).chain((0..2000).map(|i| i * 4_999 + 7)) {
            let clips = zh_cardinal(n);
            assert!(!clips.is_empty());
            assert_ne!(clips.last(), Some(&ClipId::ZhDigit0), "{n}: {}", zh(n));
            assert_ne!(clips.first(), Some(&ClipId::ZhDigit0), "{n}: {}", zh(n));
            for w in clips.windows(2) {
                assert!(
                    !(w[0] == ClipId::ZhDigit0 && w[1] == ClipId::ZhDigit0),
                    "{n}: {}",
                    zh(n)
                );
            }
        }
    }

    #[test]
    fn english_cardinals() {
        let cases: &[(u64, &str)] = &[
            (0, "zero"),
            (3, "three"),
            (10, "ten"),
            (12, "twelve"),
            (19, "nineteen"),
            (20, "twenty"),
            (21, "twenty one"),
            (99, "ninety nine"),
            (100, "one hundred"),
            (101, "one hundred one"),
            (110, "one hundred ten"),
            (1000, "one thousand"),
            (1001, "one thousand one"),
            (2345, "two thousand three hundred forty five"),
            (
                999_999,
                "nine hundred ninety nine thousand nine hundred ninety nine",
            ),
            (1_000_000, "one zero zero zero zero zero zero"),
        ];
        for &(n, want) in cases {
            assert_eq!(en(n), want, "{n}");
        }
    }
}
