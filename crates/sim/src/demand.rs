//! Turning a profile into the random facts of one simulated day: when each
//! citizen comes, for what, how long their business takes, whether they walk
//! away, and when each clerk takes a break.
//!
//! Common random numbers: a day's facts depend only on `(seed, day)`, never on
//! the policy, so every policy meets exactly the same citizens and the same
//! breaks. Each arrival draws the same number of random values whatever its
//! flags, so the streams stay aligned.

use hallcall_core::HallConfig;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Exp, Exp1, StandardNormal};

use crate::error::SimError;
use crate::profile::{Profile, ServiceDist};

const MS_PER_MIN: i64 = 60_000;

/// One citizen of a simulated day. Times are milliseconds after local midnight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Arrival {
    pub at: i64,
    /// Index into the hall's categories.
    pub cat: u16,
    pub green: bool,
    pub service_ms: i64,
    pub walk_ms: i64,
    pub no_show: bool,
    /// For a no-show who comes back: after how long they requeue.
    pub requeue_after_ms: Option<i64>,
    /// 不排了: gives up after waiting this long (cancels if still waiting).
    pub cancel_after_ms: Option<i64>,
    /// 挂起: the service is held halfway; the citizen is away this long.
    pub hold_away_ms: Option<i64>,
}

/// A clerk's break: start (ms after local midnight) and duration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Break {
    pub start: i64,
    pub dur_ms: i64,
}

/// The random facts of one day.
#[derive(Clone, Debug, Default)]
pub struct DayPlan {
    pub arrivals: Vec<Arrival>,
    /// Per staff member (hall configuration order).
    pub breaks: Vec<Vec<Break>>,
}

#[derive(Clone, Debug)]
struct Segment {
    from: i64,
    to: i64,
    /// Arrivals per millisecond.
    rate: f64,
    /// Cumulative category shares (hall category order), ending at 1.
    cum: Vec<f64>,
}

/// A profile bound to a hall: categories resolved, rates in milliseconds.
#[derive(Clone, Debug)]
pub struct Demand {
    pub profile: Profile,
    segments: Vec<Segment>,
    /// Per hall category: mean service seconds (the configured expected time).
    expected_s: Vec<f64>,
    staff: usize,
    /// Per hall category: expected tickets a day.
    pub tickets_by_cat: Vec<f64>,
    /// Set when the profile's mix did not fit the hall and equal shares were used.
    pub mix_note: Option<String>,
}

fn resolve_mix(
    hall: &HallConfig,
    mix: &std::collections::BTreeMap<String, f64>,
) -> Result<Vec<f64>, String> {
    let k = hall.categories.len();
    if mix.is_empty() {
        return Ok(vec![1.0 / k as f64; k]);
    }
    let mut shares = vec![0.0; k];
    for (id, v) in mix {
        let Some(i) = hall.categories.iter().position(|c| &c.id == id) else {
            return Err(format!(
                "category {id:?} of the profile is not in hall {:?}",
                hall.id
            ));
        };
        shares[i] = *v;
    }
    let total: f64 = shares.iter().sum();
    Ok(shares.into_iter().map(|s| s / total).collect())
}

fn cumulative(shares: &[f64]) -> Vec<f64> {
    let mut acc = 0.0;
    let mut cum: Vec<f64> = shares
        .iter()
        .map(|s| {
            acc += s;
            acc
        })
        .collect();
    if let Some(last) = cum.last_mut() {
        *last = 1.0;
    }
    cum
}

impl Demand {
    /// Binds `profile` to `hall`. A profile whose default mix names categories
    /// the hall does not have falls back to equal shares (noted in
    /// `mix_note`); a segment's own mix must fit.
    pub fn new(profile: &Profile, hall: &HallConfig) -> Result<Demand, SimError> {
        profile.validate()?;
        let mut mix_note = None;
        let default_mix = match resolve_mix(hall, &profile.mix) {
            Ok(m) => m,
            Err(why) => {
                mix_note = Some(format!(
                    "{why}: using equal shares over the hall's categories"
                ));
                resolve_mix(hall, &Default::default()).map_err(SimError::Profile)?
            }
        };
        let open = i64::from(profile.open.minutes()) * MS_PER_MIN;
        let last = i64::from(profile.last_ticket.minutes()) * MS_PER_MIN;
        let mut segments = Vec::new();
        let mut tickets_by_cat = vec![0.0; hall.categories.len()];
        for r in &profile.rates {
            let from = (i64::from(r.from.minutes()) * MS_PER_MIN).max(open);
            let to = (i64::from(r.to.minutes()) * MS_PER_MIN).min(last);
            if from >= to || r.per_hour <= 0.0 {
                continue;
            }
            let shares = if r.mix.is_empty() {
                default_mix.clone()
            } else {
                resolve_mix(hall, &r.mix).map_err(SimError::Profile)?
            };
            let rate = r.per_hour / 3_600_000.0;
            for (t, s) in tickets_by_cat.iter_mut().zip(&shares) {
                *t += rate * (to - from) as f64 * s;
            }
            segments.push(Segment {
                from,
                to,
                rate,
                cum: cumulative(&shares),
            });
        }
        segments.sort_by_key(|s| s.from);
        Ok(Demand {
            profile: profile.clone(),
            segments,
            expected_s: hall
                .categories
                .iter()
                .map(|c| f64::from(c.expected_s))
                .collect(),
            staff: hall.staff.len(),
            tickets_by_cat,
            mix_note,
        })
    }

    /// Offered work per category, seconds a day (tickets × expected time).
    pub fn work_by_cat(&self) -> Vec<f64> {
        self.tickets_by_cat
            .iter()
            .zip(&self.expected_s)
            .map(|(t, s)| t * s)
            .collect()
    }

    fn rng(seed: u64, day: u32, stream: u64) -> StdRng {
        // splitmix64 of the triple: independent-looking streams per day and purpose.
        let mut z = seed
            .wrapping_add(u64::from(day).wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .wrapping_add(stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        StdRng::seed_from_u64(z ^ (z >> 31))
    }

    /// Draws one service time, milliseconds, for category `cat`.
    fn service_ms(&self, cat: usize, z: f64, u: f64) -> i64 {
        let mean = self.expected_s[cat];
        let secs = match self.profile.service {
            ServiceDist::Lognormal => {
                let s = self.profile.service_sigma;
                let mu = mean.ln() - s * s / 2.0;
                (mu + s * z).exp()
            }
            ServiceDist::Exponential => -mean * (1.0 - u).ln(),
        };
        ((secs * 1000.0).round() as i64).max(1)
    }

    /// The facts of day `day` under `seed`: the same for every policy.
    pub fn day(&self, seed: u64, day: u32) -> DayPlan {
        self.day_on(seed, day, None)
    }

    /// The level of day `day` (weekday `weekday`, 0 = Monday): the
    /// profile's weekday factor times its day noise.
    pub fn level(&self, seed: u64, day: u32, weekday: Option<u8>) -> f64 {
        let p = &self.profile;
        let w = weekday
            .and_then(|d| p.weekday.get(usize::from(d)))
            .copied()
            .unwrap_or(1.0);
        let noise = if p.day_noise > 0.0 {
            let z: f64 = StandardNormal.sample(&mut Demand::rng(seed, day, 3));
            (p.day_noise * z - p.day_noise * p.day_noise / 2.0).exp()
        } else {
            1.0
        };
        w * noise
    }

    /// The facts of day `day` under `seed` on weekday `weekday` (0 = Monday;
    /// `None`: no weekday effect): the same for every policy.
    pub fn day_on(&self, seed: u64, day: u32, weekday: Option<u8>) -> DayPlan {
        let p = &self.profile;
        let level = self.level(seed, day, weekday);
        let mut rng = Demand::rng(seed, day, 1);
        let mut arrivals = Vec::with_capacity(700);
        // Always drawn (scaled by the mean), so a zero walk keeps the stream
        // aligned with any other walk: same citizens, same service times.
        let walk_mean_ms = p.walk_s * 1000.0;
        for seg in &self.segments {
            let Ok(gap) = Exp::new(seg.rate * level) else {
                continue;
            };
            let mut t = seg.from as f64;
            loop {
                t += gap.sample(&mut rng);
                if t >= seg.to as f64 {
                    break;
                }
                let u: f64 = rng.gen();
                let cat = seg
                    .cum
                    .iter()
                    .position(|&c| u < c)
                    .unwrap_or(seg.cum.len() - 1);
                let z: f64 = StandardNormal.sample(&mut rng);
                let us: f64 = rng.gen();
                let service_ms = self.service_ms(cat, z, us);
                let green = rng.gen::<f64>() < p.green_share;
                let no_show = rng.gen::<f64>() < p.no_show_share;
                let back = rng.gen::<f64>() < p.requeue_share;
                let back_after = rng.gen_range(5 * MS_PER_MIN..=30 * MS_PER_MIN);
                let e: f64 = Exp1.sample(&mut rng);
                let walk_ms = (e * walk_mean_ms).round() as i64;
                arrivals.push(Arrival {
                    at: t as i64,
                    cat: cat as u16,
                    green,
                    service_ms,
                    walk_ms,
                    no_show,
                    requeue_after_ms: (no_show && back).then_some(back_after),
                    cancel_after_ms: None,
                    hold_away_ms: None,
                });
            }
        }
        // Cancels and holds from a stream of their own: a profile without
        // them draws exactly the citizens, services and walks it did before.
        if p.cancel_share > 0.0 || p.hold_share > 0.0 {
            let mut xrng = Demand::rng(seed, day, 4);
            for a in &mut arrivals {
                let cancels = xrng.gen::<f64>() < p.cancel_share;
                let patience: f64 = Exp1.sample(&mut xrng);
                let holds = xrng.gen::<f64>() < p.hold_share;
                let away: f64 = Exp1.sample(&mut xrng);
                a.cancel_after_ms =
                    cancels.then(|| (patience * p.cancel_patience_s * 1000.0).round() as i64);
                a.hold_away_ms = holds.then(|| (away * p.hold_away_s * 1000.0).round() as i64);
            }
        }
        let mut brng = Demand::rng(seed, day, 2);
        let breaks = (0..self.staff)
            .map(|i| {
                p.breaks
                    .iter()
                    .map(|b| {
                        let from = i64::from(b.from.minutes()) * MS_PER_MIN;
                        let to = i64::from(b.to.minutes()) * MS_PER_MIN;
                        let uniform = if to > from {
                            brng.gen_range(from..=to)
                        } else {
                            from
                        };
                        let slot_ms = (b.minutes * 60_000.0) as i64;
                        let slots = ((to - from) / slot_ms.max(1)).max(1);
                        let start = if b.rota {
                            from + (i as i64 % slots) * slot_ms
                        } else {
                            uniform
                        };
                        let f: f64 = brng.gen_range(0.8..=1.2);
                        Break {
                            start,
                            dur_ms: (b.minutes * f * 60_000.0) as i64,
                        }
                    })
                    .collect()
            })
            .collect();
        DayPlan { arrivals, breaks }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_the_same_for_the_same_seed_and_differs_for_another() {
        let hall = hallcall_core::demo::demo_hall();
        let d = Demand::new(&Profile::town_centre(), &hall).expect("fits the demo hall");
        assert!(d.mix_note.is_none());
        let a = d.day(7, 3);
        let b = d.day(7, 3);
        assert_eq!(a.arrivals, b.arrivals);
        assert_ne!(a.arrivals, d.day(8, 3).arrivals);
        assert_eq!(a.breaks.len(), hall.staff.len());
    }

    #[test]
    fn arrivals_and_service_times_have_the_profile_means() {
        let hall = hallcall_core::demo::demo_hall();
        let d = Demand::new(&Profile::town_centre(), &hall).expect("fits");
        let days = 200;
        let mut n = 0usize;
        let mut general = (0usize, 0f64);
        for day in 0..days {
            for a in d.day(1, day).arrivals {
                n += 1;
                if a.cat == 0 {
                    general.0 += 1;
                    general.1 += a.service_ms as f64 / 1000.0;
                }
            }
        }
        let per_day = n as f64 / f64::from(days);
        assert!((per_day - 600.0).abs() < 10.0, "{per_day} tickets a day");
        let mean = general.1 / general.0 as f64;
        assert!((mean - 300.0).abs() < 6.0, "general service mean {mean}");
    }
}
