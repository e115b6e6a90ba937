//! Core command cost: `issue` and `call-next` with 10,000 waiting tickets over
//! 12 categories and 50 windows, and `call-next` at 1,000 vs 100,000 waiting
//! (the call order is O(k log n): the ratio should stay near 1, far from 100).
//!
//! `issue_and_snapshot_at/N` is what the server adds per batch: the read
//! snapshot's clone of the hall (`crates/server/src/snapshot.rs`) after an
//! issue, with N tickets issued today (200 of them waiting); `tickets_hash_map_clone_at/N`
//! clones the same tickets out of a hash map, the part of that clone they
//! cost before the hall shared them with its snapshots (`hall/ticket_book.rs`).
//!
//! Run: `cargo bench --bench core`

use std::collections::HashMap;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use hallcall_core::config::{CategoryConfig, HallConfig, StaffConfig, WindowConfig, WindowKind};
use hallcall_core::model::Ticket;
use hallcall_core::{Actor, Channel, Command, Hall, Priority};

const T0: i64 = 1_795_395_600_000;
const WINDOWS: u32 = 50;

fn big_hall() -> HallConfig {
    let mut cfg = hallcall_core::demo::demo_hall();
    cfg.id = "bench".into();
    cfg.categories = (0..12)
        .map(|i| CategoryConfig {
            id: format!("c{i}"),
            name: format!("业务{i}"),
            name_en: String::new(),
            prefix: (b'A' + i as u8) as char,
            expected_s: 300,
            limit_s: 900,
            wait_target_s: 1200,
            appointment_slots: None,
            daily_cap: None,
            last_ticket_before_close_min: 30,
        })
        .collect();
    cfg.staff = (1..=WINDOWS)
        .map(|i| StaffConfig {
            id: format!("s{i}"),
            name: format!("员工{i}"),
            pin_hash: String::new(),
            staff_no: String::new(),
            photo: None,
        })
        .collect();
    cfg.windows = (1..=WINDOWS)
        .map(|n| WindowConfig {
            number: n,
            // Mostly comprehensive; every fifth a specialist for two categories.
            kind: if n % 5 == 0 {
                WindowKind::Specialist
            } else {
                WindowKind::Comprehensive
            },
            categories: if n % 5 == 0 {
                vec![format!("c{}", n % 12), format!("c{}", (n + 1) % 12)]
            } else {
                vec![]
            },
            a_post: format!("s{n}"),
            b_post: None,
            name: String::new(),
            evaluator_token: None,
        })
        .collect();
    cfg.tidal.max_open = 64;
    cfg.validate().expect("bench hall");
    cfg
}

struct Bench {
    hall: Hall,
    now: i64,
    next: u64,
}

impl Bench {
    fn new(waiting: usize) -> Bench {
        let mut b = Bench {
            hall: Hall::new(big_hall()),
            now: T0,
            next: 0,
        };
        for n in 1..=WINDOWS {
            b.hall
                .handle(
                    Command::Login {
                        staff: format!("s{n}"),
                        window: n,
                    },
                    Actor::staff(format!("s{n}")),
                    b.now,
                )
                .expect("login");
        }
        for _ in 0..waiting {
            b.issue();
        }
        b
    }

    fn issue(&mut self) {
        self.next += 1;
        self.now += 10;
        let cat = format!("c{}", self.next % 12);
        let priority = if self.next.is_multiple_of(10) {
            Priority::Elderly
        } else {
            Priority::Normal
        };
        self.hall
            .handle(
                Command::IssueTicket {
                    id: format!("t{}", self.next),
                    category: cat,
                    priority,
                    channel: Channel::Kiosk,
                    appointment_code: None,
                },
                Actor::Kiosk,
                self.now,
            )
            .expect("issue");
    }

    /// Times call-next at every window, then (untimed) sends the called
    /// tickets away and issues as many again, so the queue length stays put.
    fn call_round(&mut self) -> Duration {
        let start = Instant::now();
        for n in 1..=WINDOWS {
            let by = Actor::staff(format!("s{n}"));
            let evs = self
                .hall
                .handle(Command::CallNext { window: n }, by, self.now)
                .expect("call");
            criterion::black_box(evs);
        }
        let spent = start.elapsed();
        for n in 1..=WINDOWS {
            let by = Actor::staff(format!("s{n}"));
            // 过号 needs a recall first (min_recalls_before_no_show = 1).
            let _ = self
                .hall
                .handle(Command::Recall { window: n }, by.clone(), self.now);
            let _ = self
                .hall
                .handle(Command::NoShow { window: n }, by, self.now);
            self.issue();
        }
        spent
    }
}

fn issue(c: &mut Criterion) {
    let mut g = c.benchmark_group("core");
    g.bench_function("issue_at_10k_waiting", |bch| {
        bch.iter_custom(|iters| {
            let mut b = Bench::new(10_000);
            let start = Instant::now();
            for _ in 0..iters {
                b.issue();
            }
            start.elapsed()
        })
    });
    for &n in &[1_000usize, 10_000, 100_000] {
        g.bench_with_input(BenchmarkId::new("call_next_at", n), &n, |bch, &n| {
            let mut b = Bench::new(n);
            bch.iter_custom(|iters| {
                let rounds = iters.div_ceil(u64::from(WINDOWS));
                let mut spent = Duration::ZERO;
                for _ in 0..rounds {
                    spent += b.call_round();
                }
                // Report per call, scaled to the iterations criterion asked for.
                spent.mul_f64(iters as f64 / (rounds * u64::from(WINDOWS)) as f64)
            })
        });
    }
    for &n in &[1_000usize, 10_000] {
        // A day with `n` tickets issued, 200 of them waiting (the rest sent
        // away as no-shows by the rounds of call-next).
        let day = || {
            let mut b = Bench::new(200);
            while b.hall.tickets().count() < n {
                b.call_round();
            }
            b
        };
        g.bench_with_input(
            BenchmarkId::new("issue_and_snapshot_at", n),
            &n,
            |bch, _| {
                let mut b = day();
                let mut snapshot = None;
                bch.iter(|| {
                    b.issue();
                    // Replaces (drops) the previous one, as publishing does.
                    snapshot = Some(b.hall.clone());
                });
                criterion::black_box(snapshot);
            },
        );
        g.bench_with_input(
            BenchmarkId::new("tickets_hash_map_clone_at", n),
            &n,
            |bch, _| {
                let b = day();
                let tickets: HashMap<u64, Ticket> =
                    b.hall.tickets().map(|t| (t.serial, t.clone())).collect();
                bch.iter(|| criterion::black_box(tickets.clone()));
            },
        );
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = issue
}
criterion_main!(benches);
