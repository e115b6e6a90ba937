//! Failover figures for `benches/postgres.rs`: two `hallcall serve --node`
//! processes (the bench build of the binary, the demo hall, the default
//! lease unless `HALLCALL_BENCH_LEASE_MS` says otherwise) over a fresh
//! database. The owner is SIGKILLed (then restarted) or SIGSTOPped past its
//! lease (then SIGCONTed); the time to the first ticket the other node
//! accepts is measured by a client that asks the other node every 20 ms.
//! Included with `#[path]`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Failover {
    pub lease_ms: u64,
    pub kills: Vec<Duration>,
    pub stops: Vec<Duration>,
}

struct Node {
    id: String,
    port: u16,
    dir: std::path::PathBuf,
    child: Option<Child>,
}

impl Node {
    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn start(&mut self, db: &str, lease_ms: u64) {
        let child = Command::new(env!("CARGO_BIN_EXE_hallcall"))
            .arg("serve")
            .arg("--data")
            .arg(&self.dir)
            .args(["--listen", &self.addr(), "--store", db, "--node", &self.id])
            .args([
                "--advertise",
                &self.addr(),
                "--lease-ms",
                &lease_ms.to_string(),
            ])
            .args(["--kiosk-issues-per-minute", "0"])
            .env("HALLCALL_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn hallcall serve");
        self.child = Some(child);
    }

    fn signal(&self, sig: i32) {
        if let Some(c) = &self.child {
            // SAFETY: signalling our own child by its pid.
            unsafe {
                libc::kill(c.id() as libc::pid_t, sig);
            }
        }
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            self.signal(libc::SIGCONT);
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn get(http: &reqwest::Client, url: String) -> Option<serde_json::Value> {
    http.get(url)
        .timeout(Duration::from_millis(500))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()
}

async fn owns(http: &reqwest::Client, node: &Node) -> bool {
    get(http, format!("http://{}/healthz", node.addr()))
        .await
        .and_then(|h| h["cluster"]["owned"].as_array().cloned())
        .is_some_and(|o| o.iter().any(|h| h == "demo"))
}

async fn wait_owner(http: &reqwest::Client, nodes: &[Node]) -> usize {
    let t = Instant::now();
    loop {
        for (i, n) in nodes.iter().enumerate() {
            if n.child.is_some() && owns(http, n).await {
                return i;
            }
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "no node owns the demo hall"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_up(http: &reqwest::Client, node: &Node) {
    let t = Instant::now();
    while get(http, format!("http://{}/healthz", node.addr()))
        .await
        .is_none()
    {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "node {} did not start",
            node.id
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Time from `from` to the first ticket `node` accepts: a new request
/// every 20 ms, each on its own, as a hall's many kiosks and clerks would
/// (one held by a frozen owner does not hold up the next).
async fn first_ticket(http: &reqwest::Client, node: &Node, from: Instant) -> Duration {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Duration>();
    let mut tries = tokio::task::JoinSet::new();
    loop {
        let (http, tx) = (http.clone(), tx.clone());
        let url = format!("http://{}/api/v1/halls/demo/tickets", node.addr());
        tries.spawn(async move {
            let r = http
                .post(url)
                .bearer_auth("kiosk-demo")
                .json(&serde_json::json!({"category": "general"}))
                .timeout(Duration::from_secs(20))
                .send()
                .await;
            if r.is_ok_and(|r| r.status().as_u16() == 201) {
                let _ = tx.send(from.elapsed());
            }
        });
        if let Ok(Some(took)) = tokio::time::timeout(Duration::from_millis(20), rx.recv()).await {
            tries.detach_all();
            return took;
        }
        assert!(
            from.elapsed() < Duration::from_secs(60),
            "no failover within 60 s"
        );
    }
}

pub async fn run(db: &str, lease_ms: u64, kills: usize, stops: usize) -> Failover {
    let tmp = std::env::temp_dir().join(format!("hallcall-failover-{}", std::process::id()));
    let http = reqwest::Client::new();
    let mut nodes: Vec<Node> = (1..=2)
        .map(|i| Node {
            id: format!("n{i}"),
            port: free_port(),
            dir: tmp.join(format!("n{i}")),
            child: None,
        })
        .collect();
    for n in &nodes {
        std::fs::create_dir_all(&n.dir).expect("data dir");
    }
    nodes[0].start(db, lease_ms);
    wait_up(&http, &nodes[0]).await;
    std::fs::copy(
        nodes[0].dir.join("session.key"),
        nodes[1].dir.join("session.key"),
    )
    .expect("one token key");
    nodes[1].start(db, lease_ms);
    wait_up(&http, &nodes[1]).await;
    let mut out = Failover {
        lease_ms,
        kills: Vec::new(),
        stops: Vec::new(),
    };
    for _ in 0..kills {
        let owner = wait_owner(&http, &nodes).await;
        let other = 1 - owner;
        // The follower is current, as under load.
        first_ticket(&http, &nodes[other], Instant::now()).await;
        let at = Instant::now();
        nodes[owner].kill();
        out.kills.push(first_ticket(&http, &nodes[other], at).await);
        nodes[owner].start(db, lease_ms);
        wait_up(&http, &nodes[owner]).await;
    }
    for _ in 0..stops {
        let owner = wait_owner(&http, &nodes).await;
        let other = 1 - owner;
        first_ticket(&http, &nodes[other], Instant::now()).await;
        let at = Instant::now();
        nodes[owner].signal(libc::SIGSTOP);
        out.stops.push(first_ticket(&http, &nodes[other], at).await);
        nodes[owner].signal(libc::SIGCONT);
        // The woken node must give the hall up, not write it.
        let t = Instant::now();
        while owns(&http, &nodes[owner]).await {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "the woken node still owns the hall"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    drop(nodes);
    let _ = std::fs::remove_dir_all(&tmp);
    out
}
