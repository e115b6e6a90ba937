//! # hallcall-sim: simulated days through the real hall
//!
//! `hallcall simulate` answers a hall manager's staffing questions — how many
//! windows, whether to merge specialist windows into comprehensive ones (一窗受理),
//! how to set the tidal thresholds — with numbers, by running the real
//! `hallcall-core` state machine through simulated days on a simulated clock.
//!
//! What this crate owns:
//! - the **demand**: day profiles (piecewise Poisson arrivals per category and
//!   time of day, lognormal service times around the configured expected time,
//!   no-shows and their requeues, green channel), built-in or from TOML
//!   ([`profile`], [`demand`]);
//! - the **people**: a kiosk that issues tickets, clerks who call, start,
//!   complete, mark no-shows, take breaks and come back, hand the window back
//!   to its A post, and walk to a tidal window the core opened ([`engine`]);
//! - the **policies** a manager compares, as hall arrangements at opening time
//!   ([`policy`]); the **figures** and the chart ([`report`], [`chart`]); and
//!   the M/M/c validation path against Erlang C ([`mmc`]).
//!
//! What it must never do: re-implement a hall rule. Which ticket a window
//! calls, the call-order bonus, whether a break is an AB handover or a
//! failover, the estimated waits, when a tidal window opens or closes and who
//! is sent there, what expires at day close: every such decision comes from
//! [`hallcall_core::Hall::handle`], and every figure about waits comes from the
//! core's own events (`service_completed.wait_s`). The simulator only decides
//! what people do and when (the random facts of a day), and it may read the
//! hall's state the way a clerk reads the console (`peek_next`, window
//! states). Randomness is seeded (`--seed`), and a day's facts depend only on
//! the seed and the day, so all policies meet the same citizens (common
//! random numbers).

pub mod bound;
pub mod chart;
pub mod demand;
pub mod engine;
pub mod error;
pub mod mmc;
pub mod policy;
pub mod profile;
pub mod report;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use chrono::{Datelike, NaiveDate};
use hallcall_core::HallConfig;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The forecast and staffing plan, shared with the server (`hallcall-forecast`).
pub use hallcall_forecast as forecast;

pub use demand::Demand;
pub use engine::{Engine, EngineOptions, Tally};
pub use error::SimError;
pub use policy::{Policy, Setup};
pub use profile::Profile;
pub use report::{PolicyReport, Report};

/// Arguments of `hallcall simulate`.
#[derive(clap::Args, Debug, Clone)]
pub struct SimulateArgs {
    /// Hall configuration file (the server's TOML); the demo town centre when absent.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Hall id within the configuration (needed when it has several halls).
    #[arg(long, value_name = "ID")]
    pub hall: Option<String>,
    /// Day profile (TOML); the built-in town centre when absent.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Print the built-in profile as TOML (a starting point for your own) and exit.
    #[arg(long)]
    pub print_profile: bool,
    /// Scale the profile's arrival rates to this many expected tickets a day.
    #[arg(long, value_name = "N")]
    pub tickets: Option<f64>,
    /// Business days to simulate (days the hall is closed are skipped).
    #[arg(long, default_value_t = 1)]
    pub days: u32,
    /// Seed of every random draw; the same seed gives the same days.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// First simulated date.
    #[arg(long, value_name = "YYYY-MM-DD", default_value = "2026-03-02")]
    pub start: NaiveDate,
    /// Policies to compare, side by side on the same arrivals.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "static-all,static-base,tidal,specialist,plan,bound"
    )]
    pub policies: Vec<Policy>,
    /// Print the report as JSON (no table, no progress bar).
    #[arg(long)]
    pub json: bool,
    /// Write the chart (waiting citizens and staffed windows over the day) as SVG.
    #[arg(long, value_name = "PATH")]
    pub svg: Option<PathBuf>,
    /// Worker threads (policies run in parallel); default: available cores.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Override tidal.open_wait_s (open when a new ticket's estimated wait exceeds it).
    #[arg(long, value_name = "S")]
    pub open_wait: Option<u32>,
    /// Override tidal.open_per_window (open when waiting per staffed window exceeds it).
    #[arg(long, value_name = "N")]
    pub open_per_window: Option<f64>,
    /// Override tidal.close_per_window (close when waiting per window stays below it).
    #[arg(long, value_name = "N")]
    pub close_per_window: Option<f64>,
    /// Override tidal.sustain_s (how long a condition must hold; closing waits 5×).
    #[arg(long, value_name = "S")]
    pub sustain: Option<u32>,
}

/// A fully resolved simulation request.
#[derive(Clone, Debug)]
pub struct Simulation {
    pub hall: HallConfig,
    pub profile: Profile,
    pub days: u32,
    pub seed: u64,
    pub start: NaiveDate,
    pub policies: Vec<Policy>,
    pub engine: EngineOptions,
    pub threads: usize,
}

impl Simulation {
    /// The demo town centre with the built-in profile, all four policies.
    pub fn demo(days: u32, seed: u64) -> Simulation {
        Simulation {
            hall: hallcall_core::demo::demo_hall(),
            profile: Profile::town_centre(),
            days,
            seed,
            start: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default(),
            policies: Policy::ALL.to_vec(),
            engine: EngineOptions::default(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }

    /// The dates simulated: `days` open days of the hall from `start`.
    pub fn dates(&self) -> Vec<NaiveDate> {
        let mut out = Vec::with_capacity(self.days as usize);
        let mut d = self.start;
        let mut guard = 0;
        while out.len() < self.days as usize && guard < 10 * (self.days as usize + 7) {
            guard += 1;
            // The hall's calendar: open days, holidays, 调休.
            if self.hall.is_open_date(d) {
                out.push(d);
            }
            match d.succ_opt() {
                Some(n) => d = n,
                None => break,
            }
        }
        out
    }
}

/// Runs every policy of `sim` over the same days and summarises them.
pub fn simulate(sim: &Simulation, progress: Option<&ProgressBar>) -> Result<Report, SimError> {
    sim.hall.validate()?;
    sim.profile
        .check_hall(&sim.hall)
        .map_err(|(_, message)| SimError::Profile(message))?;
    let demand = Demand::new(&sim.profile, &sim.hall)?;
    let work = demand.work_by_cat();
    let setups = sim
        .policies
        .iter()
        .map(|&p| Setup::new(p, &sim.hall, &work))
        .collect::<Result<Vec<_>, _>>()?;
    let dates = sim.dates();
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Tally, SimError>>>> =
        Mutex::new((0..setups.len()).map(|_| None).collect());
    let threads = sim.threads.clamp(1, setups.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(setup) = setups.get(i) else {
                    break;
                };
                let outcome = run_policy(sim, setup, &demand, &dates, progress);
                if let Ok(mut r) = results.lock() {
                    r[i] = Some(outcome);
                }
            });
        }
    });
    let wall_s = started.elapsed().as_secs_f64();
    let tallies = results.into_inner().unwrap_or_default();
    let mut policies = Vec::new();
    for (setup, tally) in setups.iter().zip(tallies) {
        let tally = tally.transpose()?.unwrap_or_default();
        policies.push(PolicyReport::from_tally(
            setup.policy,
            tally,
            sim.profile.open.minutes(),
            sim.engine.slot_min,
        ));
    }
    let commands: u64 = policies.iter().map(|p| p.commands).sum();
    let core_events: u64 = policies.iter().map(|p| p.core_events).sum();
    let sim_events: u64 = policies.iter().map(|p| p.sim_events).sum();
    let mut notes = Vec::new();
    if let Some(n) = &demand.mix_note {
        notes.push(n.clone());
    }
    if dates.len() < sim.days as usize {
        notes.push(format!(
            "only {} open days found from {}",
            dates.len(),
            sim.start
        ));
    }
    Ok(Report {
        hall: sim.hall.id.clone(),
        hall_name: sim.hall.name.clone(),
        profile: sim.profile.name.clone(),
        expected_tickets_per_day: sim.profile.tickets_per_day(),
        days: dates.len() as u32,
        seed: sim.seed,
        tidal: sim.hall.tidal.clone(),
        specialist_split: setups
            .iter()
            .find(|s| s.policy == Policy::Specialist)
            .map(|s| s.split.clone())
            .unwrap_or_default(),
        policies,
        timing: report::Timing {
            wall_s,
            threads,
            commands,
            core_events,
            sim_events,
            core_events_per_s: core_events as f64 / wall_s.max(1e-9),
            commands_per_s: commands as f64 / wall_s.max(1e-9),
        },
        notes,
    })
}

/// What the schedule of `plan` and `bound` works with: the hall's
/// [`forecast::Frame`] and the simulated day's hours.
struct ScheduleFrame {
    hall: forecast::Frame,
    target_s: f64,
    /// Per specialist window: its categories as a bit mask (for `bound`).
    specialist_masks: Vec<u64>,
    min: u32,
    max: u32,
    open_slot: usize,
    last_slot: usize,
    close_slot: usize,
    end_slot: usize,
    lead_ms: i64,
}

impl ScheduleFrame {
    fn new(sim: &Simulation, setup: &Setup) -> ScheduleFrame {
        use hallcall_core::config::WindowKind;
        let cfg = &setup.config;
        let hall = forecast::Frame::of(cfg);
        let slot = forecast::Frame::slot;
        let p = &sim.profile;
        ScheduleFrame {
            target_s: hall.target_s,
            specialist_masks: cfg
                .windows
                .iter()
                .filter(|w| w.kind == WindowKind::Specialist)
                .map(|w| {
                    cfg.categories
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| w.categories.contains(&c.id))
                        .fold(0u64, |m, (i, _)| m | 1u64 << (i % 64))
                })
                .collect(),
            min: hall.min,
            max: hall.max,
            open_slot: slot(u32::from(p.open.minutes())),
            last_slot: slot(u32::from(p.last_ticket.minutes()).saturating_sub(1)) + 1,
            close_slot: slot(u32::from(p.close.minutes()).saturating_sub(1)) + 1,
            end_slot: slot(u32::from(p.close.minutes()) + sim.engine.overtime_min),
            lead_ms: (p.tidal_walk_s * 1000.0) as i64,
            hall,
        }
    }

    /// `plan`: Erlang C on the forecast; after the last ticket, the last
    /// half-hour's windows until the close.
    fn plan(&self, history: &forecast::History, weekday: u8) -> Option<forecast::StaffingPlan> {
        self.hall.plan(
            history,
            weekday,
            self.open_slot,
            self.last_slot,
            self.close_slot,
        )
    }

    fn with_specialists(&self, p: forecast::StaffingPlan) -> forecast::StaffingPlan {
        self.hall.with_specialists(p)
    }
}

/// One policy over every day: the schedule policies get their schedule
/// before each day (`plan` from the days before it, `bound` from the day
/// itself, tightened until the core meets the target).
fn run_policy(
    sim: &Simulation,
    setup: &Setup,
    demand: &Demand,
    dates: &[NaiveDate],
    progress: Option<&ProgressBar>,
) -> Result<Tally, SimError> {
    let frame = ScheduleFrame::new(sim, setup);
    let weekday = |d: &NaiveDate| d.weekday().num_days_from_monday() as u8;
    // `bound` calibrates its model on the first days (at most eight rounds,
    // tightening while the core misses the target), then runs every day once.
    let bound = setup.policy == Policy::Bound;
    let calib = if bound {
        dates.len().min(10)
    } else {
        dates.len()
    };
    let mut tighten = 1.0;
    let mut quantile = 0.9;
    let mut round = 0u32;
    let tally = loop {
        let last = !bound || round == 8;
        let days = if last { dates } else { &dates[..calib] };
        let mut engine = Engine::new(setup, demand, sim.engine);
        let mut history = forecast::History::new(4);
        if setup.policy == Policy::Plan {
            // plan learns from the day's log, with the server's own reducer.
            engine.keep_log();
        }
        for (day, date) in days.iter().enumerate() {
            let facts = demand.day_on(sim.seed, day as u32, Some(weekday(date)));
            match setup.policy {
                Policy::Plan => {
                    engine.set_schedule(frame.plan(&history, weekday(date)).as_ref());
                }
                Policy::Bound => {
                    let s = bound::search(
                        &facts,
                        &frame.specialist_masks,
                        (sim.profile.no_show_wait_s * 1000.0) as i64,
                        frame.target_s * tighten,
                        quantile,
                        frame.min,
                        frame.max,
                        frame.open_slot,
                        frame.end_slot,
                        frame.lead_ms,
                    );
                    engine.set_schedule(Some(&frame.with_specialists(s)));
                }
                _ => {}
            }
            engine.run_day(*date, facts)?;
            if setup.policy == Policy::Plan {
                let cfg = &setup.config;
                let log = engine.take_log();
                history.push(forecast::DayLog::from_events(
                    &log,
                    weekday(date),
                    cfg.timezone,
                    |c| frame.hall.is_pooled(cfg, c),
                ));
            }
            if last {
                if let Some(pb) = progress {
                    pb.inc(1);
                }
            }
        }
        let mut tally = engine.tally;
        tally.bound_rounds = round;
        if last {
            break tally;
        }
        let mut w = tally.waits.clone();
        w.sort_unstable_by(f32::total_cmp);
        let p90 = w
            .get(((0.9 * w.len() as f64).ceil() as usize).clamp(1, w.len().max(1)) - 1)
            .copied()
            .unwrap_or(0.0);
        if f64::from(p90) <= frame.target_s {
            if calib == dates.len() {
                if let Some(pb) = progress {
                    pb.inc(dates.len() as u64);
                }
                break tally;
            }
            round = 8;
            continue;
        }
        tighten *= 0.92;
        quantile = (quantile + 0.01f64).min(0.99);
        round += 1;
    };
    Ok(tally)
}

fn read(path: &PathBuf) -> Result<String, SimError> {
    std::fs::read_to_string(path).map_err(|source| SimError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// Resolves the command-line arguments into a [`Simulation`].
pub fn resolve(args: &SimulateArgs) -> Result<Simulation, SimError> {
    let mut hall = match &args.config {
        None => hallcall_core::demo::demo_hall(),
        Some(path) => {
            let cfg = hallcall_core::config_file::parse(&path.display().to_string(), &read(path)?)?;
            let have = || {
                cfg.halls
                    .iter()
                    .map(|h| h.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            match &args.hall {
                Some(id) => cfg
                    .halls
                    .iter()
                    .find(|h| &h.id == id)
                    .cloned()
                    .ok_or_else(|| SimError::NoSuchHall {
                        wanted: id.clone(),
                        have: have(),
                    })?,
                None if cfg.halls.len() == 1 => cfg.halls[0].clone(),
                None => return Err(SimError::WhichHall(cfg.halls.len())),
            }
        }
    };
    if args.config.is_none() {
        if let Some(id) = &args.hall {
            if id != &hall.id {
                return Err(SimError::NoSuchHall {
                    wanted: id.clone(),
                    have: hall.id.clone(),
                });
            }
        }
    }
    if let Some(v) = args.open_wait {
        hall.tidal.open_wait_s = v;
    }
    if let Some(v) = args.open_per_window {
        hall.tidal.open_per_window = v;
    }
    if let Some(v) = args.close_per_window {
        hall.tidal.close_per_window = v;
    }
    if let Some(v) = args.sustain {
        hall.tidal.sustain_s = v;
    }
    hall.validate()?;
    let mut profile = match &args.profile {
        None => Profile::town_centre(),
        Some(path) => {
            let text = read(path)?;
            let name = path.display().to_string();
            let p = Profile::from_toml_named(&text, &name)?;
            if let Err((key, message)) = p.check_hall(&hall) {
                return Err(SimError::At {
                    path: name,
                    line: profile::line_of(&text, &key),
                    message,
                });
            }
            p
        }
    };
    if let Some(n) = args.tickets {
        if !(n.is_finite() && n >= 0.0) {
            return Err(SimError::Profile(format!(
                "--tickets must be >= 0, got {n}"
            )));
        }
        profile.scale_to(n);
    }
    Ok(Simulation {
        hall,
        profile,
        days: args.days.max(1),
        seed: args.seed,
        start: args.start,
        policies: if args.policies.is_empty() {
            Policy::ALL.to_vec()
        } else {
            let mut p = args.policies.clone();
            p.dedup();
            p
        },
        engine: EngineOptions::default(),
        threads: args
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1),
    })
}

fn write(path: &PathBuf, text: &str) -> Result<(), SimError> {
    std::fs::write(path, text).map_err(|source| SimError::Write {
        path: path.display().to_string(),
        source,
    })
}

/// `hallcall simulate`.
pub fn run(args: SimulateArgs) -> ExitCode {
    if args.print_profile {
        return match toml::to_string(&Profile::town_centre()) {
            Ok(t) => {
                print!("{t}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("hallcall simulate: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let sim = match resolve(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hallcall simulate: {e}");
            return ExitCode::from(2);
        }
    };
    let total = u64::from(sim.days) * sim.policies.len() as u64;
    let show = !args.json && std::io::stderr().is_terminal() && sim.days > 1;
    let pb = ProgressBar::with_draw_target(
        Some(total),
        if show {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    if let Ok(style) = ProgressStyle::with_template(
        "{prefix} [{bar:40}] {pos}/{len} policy-days ({per_sec}, eta {eta})",
    ) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_prefix("simulating");
    let report = simulate(&sim, Some(&pb));
    pb.finish_and_clear();
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("hallcall simulate: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = &args.svg {
        if let Err(e) = chart::svg(&report).and_then(|svg| write(path, &svg)) {
            eprintln!("hallcall simulate: {e}");
            return ExitCode::FAILURE;
        }
    }
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(j) => println!("{j}"),
            Err(e) => {
                eprintln!("hallcall simulate: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print!("{}", report.table());
        if let Some(path) = &args.svg {
            println!("chart: {}", path.display());
        }
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: SimulateArgs,
    }

    #[test]
    fn a_bad_configuration_is_named_by_file_and_line() {
        let path = std::env::temp_dir().join(format!("hallcall-sim-{}.toml", std::process::id()));
        std::fs::write(
            &path,
            "[[hall]]\nid = \"x\"\nname = \"X\"\ncolour = \"red\"\n",
        )
        .expect("write");
        let cli = Cli::parse_from(["simulate", "--config", path.to_str().expect("utf-8")]);
        let e = resolve(&cli.args).expect_err("refused");
        let _ = std::fs::remove_file(&path);
        let want = format!("hall configuration {}:4: ", path.display());
        assert!(e.to_string().starts_with(&want), "{e}");
        assert!(e.to_string().contains("colour"), "{e}");
    }
}
