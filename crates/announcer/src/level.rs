//! Loudness measures used to level-match the chime to the voice, and by the
//! tests that check it on rendered WAVs.

/// Length of one analysis frame (ms).
pub const FRAME_MS: u32 = 10;
/// Frames quieter than this (dBFS RMS) are left out of [`gated_rms_dbfs`]:
/// the silence between words and the tail of the chime's decay.
pub const GATE_DBFS: f64 = -45.0;

/// RMS of all samples in dBFS (full scale = 32768), `None` for no samples or
/// pure silence.
pub fn rms_dbfs(samples: &[i16]) -> Option<f64> {
    let power = mean_power(samples)?;
    (power > 0.0).then(|| 10.0 * (power / (32768.0 * 32768.0)).log10())
}

/// Gated RMS in dBFS: the RMS over the 10 ms frames louder than
/// [`GATE_DBFS`], i.e. the level of what is actually sounding (a simple form
/// of the gating in EBU R 128 / ITU-R BS.1770, without the K-weighting).
/// `None` when no frame passes the gate.
pub fn gated_rms_dbfs(samples: &[i16], sample_rate: u32) -> Option<f64> {
    let frame = (sample_rate * FRAME_MS / 1000).max(1) as usize;
    let gate = 32768.0f64 * 32768.0 * 10f64.powf(GATE_DBFS / 10.0);
    let (mut sum, mut n) = (0.0f64, 0usize);
    for chunk in samples.chunks(frame) {
        if let Some(p) = mean_power(chunk) {
            if p > gate {
                sum += p * chunk.len() as f64;
                n += chunk.len();
            }
        }
    }
    (n > 0).then(|| 10.0 * (sum / n as f64 / (32768.0 * 32768.0)).log10())
}

/// Largest absolute sample value.
pub fn peak(samples: &[i16]) -> u16 {
    samples.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0)
}

fn mean_power(samples: &[i16]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    Some(sum / samples.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(amplitude: f64, n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| (amplitude * (i as f64 * 0.1).sin()).round() as i16)
            .collect()
    }

    #[test]
    fn a_full_scale_sine_is_minus_3_db_and_silence_is_gated_out() {
        let s = sine(32767.0, 22_050);
        let db = rms_dbfs(&s).expect("rms");
        assert!((db - (-3.01)).abs() < 0.05, "{db}");
        let mut with_silence = s.clone();
        with_silence.resize(22_050 * 4, 0);
        let plain = rms_dbfs(&with_silence).expect("rms");
        assert!((plain - (db - 6.02)).abs() < 0.05, "{plain}");
        let gated = gated_rms_dbfs(&with_silence, 22_050).expect("gated");
        assert!((gated - db).abs() < 0.05, "{gated}");
        assert_eq!(gated_rms_dbfs(&[0; 1000], 22_050), None);
        assert_eq!(rms_dbfs(&[]), None);
        assert_eq!(peak(&[3, -7, 5]), 7);
    }
}
