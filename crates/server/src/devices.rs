//! The hall's devices as the server drives them (issue 16): each kiosk's
//! ESC/POS ticket printer (`[[hall.printer]]`: printed on issue, polled
//! between tickets) and the hall's voice (`[hall.voice]`) for the rendered
//! announcements. Built at start and again on every reload; a reload whose
//! printers or voice are wrong is refused for that hall, with the key named.
//!
//! Printer problems are **server-side warnings** (a list per hall the
//! supervisor dashboard polls, `GET …/devices`), not core events: a
//! printer's paper is hardware state, re-learnt by the first poll after a
//! restart (at start-up, then every [`POLL_EVERY`]), so it needs no place in
//! the durable log, and the core stays free of devices.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use hallcall_announcer::{Lang, Voice, VoiceConfig, VoicePack};
use hallcall_core::HallConfig;
use hallcall_devices::{
    validate_printers, IssueTime, PrintError, Printer, PrinterConfig, PrinterHealth,
    PrinterProblem, TicketPrint,
};
use serde::Serialize;
use tokio::task::JoinHandle;

/// How often a printer is asked for its status between tickets.
pub const POLL_EVERY: Duration = Duration::from_secs(30);
/// The most a kiosk waits for its ticket to print before it shows the
/// ticket on screen instead.
pub const PRINT_CAP: Duration = Duration::from_secs(4);

/// A hall's `[[hall.printer]]` or `[hall.voice]` that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("hall[{hall}].{message}")]
pub struct DeviceConfigError {
    pub hall: String,
    /// `printer[0].width: …`, `voice: …`.
    pub message: String,
}

/// One printer's current problem, as the supervisor sees it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PrinterWarning {
    /// `printer[0]`: the entry in the hall's configuration.
    pub printer: String,
    /// Where it is (`tcp://10.0.0.21:9100`).
    pub connect: String,
    /// `red` when it cannot print, `yellow` when it prints but needs care
    /// (paper nearly used up).
    pub level: String,
    /// `paper_out`, `cover_open`, `offline`, …
    #[schema(value_type = Vec<String>)]
    pub problems: Vec<PrinterProblem>,
    /// 打印机缺纸, …
    pub message: String,
    /// RFC 3339.
    pub since: String,
}

/// The printer warnings of one hall, keyed by kiosk token (never shown).
pub type PrinterWarnings = Arc<Mutex<BTreeMap<String, PrinterWarning>>>;

struct KioskPrinter {
    index: usize,
    printer: Printer,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for KioskPrinter {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// A hall's devices, rebuilt whole on a reload.
pub struct HallDevices {
    printers: HashMap<String, KioskPrinter>,
    /// The hall's voice, compiled against the server's pack (`None`: no pack).
    pub voice: Option<Arc<Voice>>,
    /// `lang` of `[hall.voice]`: the announcements' default language.
    pub lang: Lang,
    /// Changes with every build, so cached WAVs of an older voice are not served.
    pub generation: u64,
}

static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A hall's devices as configured, checked, not started.
pub struct Checked {
    pub printers: Vec<PrinterConfig>,
    pub voice: Option<Arc<Voice>>,
    pub lang: Lang,
}

/// Parses and checks a hall's printers and voice without starting anything
/// (start-up and reload call it before they touch the running hall).
pub fn check(hall: &HallConfig, pack: Option<&VoicePack>) -> Result<Checked, DeviceConfigError> {
    let err = |message: String| DeviceConfigError {
        hall: hall.id.clone(),
        message,
    };
    let mut printers = Vec::with_capacity(hall.printers.len());
    for (i, raw) in hall.printers.iter().enumerate() {
        let p: PrinterConfig = raw
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| err(format!("printer[{i}]: {}", e.message())))?;
        printers.push(p);
    }
    validate_printers(&printers, Some(&hall.kiosk_tokens)).map_err(|e| err(e.to_string()))?;
    let cfg = match &hall.voice {
        Some(v) => VoiceConfig::from_value(v.clone()).map_err(|e| err(format!("voice: {e}")))?,
        None => VoiceConfig::default(),
    };
    let lang = cfg.lang;
    let voice = match pack {
        Some(pack) if hall.voice.is_none() => Some(pack.default_voice()),
        Some(pack) => Some(Arc::new(
            Voice::new(cfg, pack).map_err(|e| err(format!("voice: {e}")))?,
        )),
        None => None,
    };
    Ok(Checked {
        printers,
        voice,
        lang,
    })
}

impl HallDevices {
    /// Builds a hall's devices and starts a monitor per printer (inside a
    /// tokio runtime); problems go to `warnings`.
    pub fn start(
        hall: &HallConfig,
        pack: Option<&VoicePack>,
        warnings: &PrinterWarnings,
    ) -> Result<HallDevices, DeviceConfigError> {
        let Checked {
            printers: configs,
            voice,
            lang,
        } = check(hall, pack)?;
        if let Ok(mut w) = warnings.lock() {
            w.retain(|kiosk, _| configs.iter().any(|p| &p.kiosk == kiosk));
        }
        let mut printers = HashMap::new();
        for (index, cfg) in configs.into_iter().enumerate() {
            let kiosk = cfg.kiosk.clone();
            let printer = Printer::new(cfg);
            let (monitor, mut health) =
                hallcall_devices::spawn_monitor(printer.clone(), POLL_EVERY);
            let (w, k, p) = (warnings.clone(), kiosk.clone(), printer.clone());
            let watcher = tokio::spawn(async move {
                let mut seen = 0u64;
                loop {
                    tokio::select! {
                        r = health.changed() => if r.is_err() { return },
                        _ = tokio::time::sleep(POLL_EVERY) => {}
                    }
                    let h: PrinterHealth = health.borrow_and_update().clone();
                    // Every new poll, not only a change of problems: a
                    // warning the issue handler raised is cleared by the
                    // next good poll.
                    if h.polls != seen {
                        seen = h.polls;
                        set_warning(&w, &k, index, &p, &h.problems);
                    }
                }
            });
            printers.insert(
                kiosk,
                KioskPrinter {
                    index,
                    printer,
                    tasks: vec![monitor, watcher],
                },
            );
        }
        Ok(HallDevices {
            printers,
            voice,
            lang,
            generation: GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }

    /// Whether tickets issued with this kiosk token are printed by the server.
    pub fn has_printer(&self, kiosk: &str) -> bool {
        self.printers.contains_key(kiosk)
    }

    /// Prints a ticket on the kiosk's printer, within [`PRINT_CAP`]:
    /// `None` when the kiosk has no printer, `Some(Ok)` when printed,
    /// `Some(Err(problem))` when not (the warning is raised).
    pub async fn print(
        &self,
        kiosk: &str,
        ticket: &TicketPrint,
        warnings: &PrinterWarnings,
    ) -> Option<Result<(), String>> {
        let kp = self.printers.get(kiosk)?;
        let r = tokio::time::timeout(PRINT_CAP, kp.printer.print_checked(ticket)).await;
        Some(match r {
            Ok(Ok(status)) => {
                let problems = status.map(|s| s.problems()).unwrap_or_default();
                set_warning(warnings, kiosk, kp.index, &kp.printer, &problems);
                Ok(())
            }
            Ok(Err(e)) => {
                let problems = e.problems();
                set_warning(warnings, kiosk, kp.index, &kp.printer, &problems);
                tracing::warn!(printer = kp.index, error = %e, "ticket not printed");
                Err(describe(&problems, &e))
            }
            Err(_) => {
                let problems = vec![PrinterProblem::Offline];
                set_warning(warnings, kiosk, kp.index, &kp.printer, &problems);
                tracing::warn!(
                    printer = kp.index,
                    "ticket not printed within {PRINT_CAP:?}"
                );
                Err(PrinterProblem::Offline.describe().to_string())
            }
        })
    }
}

fn describe(problems: &[PrinterProblem], e: &PrintError) -> String {
    if problems.is_empty() {
        e.to_string()
    } else {
        problems
            .iter()
            .map(|p| p.describe())
            .collect::<Vec<_>>()
            .join("，")
    }
}

fn set_warning(
    warnings: &PrinterWarnings,
    kiosk: &str,
    index: usize,
    printer: &Printer,
    problems: &[PrinterProblem],
) {
    let Ok(mut w) = warnings.lock() else {
        return;
    };
    if problems.is_empty() {
        w.remove(kiosk);
        return;
    }
    if w.get(kiosk).is_some_and(|old| old.problems == problems) {
        return;
    }
    let level = if problems.iter().any(|p| p.blocks_printing()) {
        "red"
    } else {
        "yellow"
    };
    w.insert(
        kiosk.to_string(),
        PrinterWarning {
            printer: format!("printer[{index}]"),
            connect: printer.config().connect.to_string(),
            level: level.into(),
            problems: problems.to_vec(),
            message: problems
                .iter()
                .map(|p| p.describe())
                .collect::<Vec<_>>()
                .join("，"),
            since: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        },
    );
}

/// What the printer prints for an issued ticket.
#[allow(clippy::too_many_arguments)]
pub fn ticket_print(
    hall: &HallConfig,
    number: &str,
    category_name: &str,
    ahead: u32,
    estimated_wait_s: Option<u64>,
    issued_at: &str,
    status_url: &str,
    note: Option<String>,
) -> TicketPrint {
    let issued_at = match DateTime::parse_from_rfc3339(issued_at) {
        Ok(at) => IssueTime::Zoned {
            at: at.with_timezone(&Utc),
            tz: hall.timezone,
        },
        Err(_) => IssueTime::Text(issued_at.to_string()),
    };
    TicketPrint {
        hall_name: hall.name.clone(),
        number: number.to_string(),
        category_name: category_name.to_string(),
        ahead,
        estimated_wait_s,
        issued_at,
        status_url: absolute_url(&hall.public_url, status_url),
        note,
    }
}

/// `public_url` + a path (`/t/…`); the path alone without a `public_url`.
pub fn absolute_url(public_url: &str, path: &str) -> String {
    format!("{}{path}", public_url.trim_end_matches('/'))
}
