//! Webhooks (`[[hall.webhook]]`): a hall's chosen events posted to another
//! system — an SMS gateway, WeChat, the province's 好差评 platform — at
//! least once, in seq order per hall, from the durable log.
//!
//! Why from the log and not from the broadcast: the broadcast drops a slow
//! reader and forgets everything at a restart, whereas the log holds every
//! acknowledged event; a hook that is down for an hour, or a server that
//! restarts mid-delivery, resumes from its persisted position
//! ([`position`]) and misses nothing — on several nodes, the hall's next
//! owner resumes from the position the last owner wrote. Each hook of each hall is one task
//! ([`deliver`]), so a dead receiver delays only its own hook.
//!
//! Every request: `POST` the event as JSON, with
//! `Idempotency-Key: {hall}:{seq}` (a repeat after a retry or restart has
//! the same key), `X-Hallcall-Event: {type}` and
//! `X-Hallcall-Signature: sha256={hex HMAC-SHA256 of the body with the
//! hook's secret}`.

mod deliver;
pub mod in_flight;
pub mod position;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use hallcall_core::config::{WebhookConfig, WebhookPayload};
use hallcall_core::{Event, EventKind};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::app::App;
use position::Positions;

pub const SIGNATURE_HEADER: &str = "x-hallcall-signature";
pub const EVENT_HEADER: &str = "x-hallcall-event";
/// How soon a changed `[[hall.webhook]]` (SIGHUP) takes effect.
const CONFIG_CHECK: Duration = Duration::from_secs(3);

/// `sha256=` and the hex HMAC-SHA256 of `body` keyed with `secret`: what a
/// receiver recomputes to know the request came from this hall.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    // HMAC accepts a key of any length; `new_from_slice` cannot fail here.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The body posted for `ev`: its public form, or with `payload = "full"`
/// the event as logged — except events that carry configuration (tokens,
/// PIN hashes, other hooks' secrets: `config_reloaded`, `config_edited`),
/// which are always sent public.
pub fn body_of(ev: &Event, payload: WebhookPayload) -> String {
    match payload {
        WebhookPayload::Full if !carries_configuration(&ev.kind) => ev.to_json(),
        _ => ev.public().to_json(),
    }
}

fn carries_configuration(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::ConfigReloaded { .. } | EventKind::ConfigEdited { .. }
    )
}

/// Starts the delivery of every hall's hooks, from the positions in
/// `app.webhook_positions` (`webhooks.json` with sled, the database with
/// PostgreSQL).
pub fn start(app: App) {
    let positions = app.webhook_positions.clone();
    tokio::spawn(positions.clone().run_writer());
    for hall in app.halls.keys() {
        tokio::spawn(manage(app.clone(), hall.clone(), positions.clone()));
    }
}

/// Keeps one task per configured hook of `hall`, following reloads: a hook
/// whose keys changed is restarted (from its position), a removed one stops.
async fn manage(app: App, hall: String, positions: Positions) {
    let mut running: HashMap<String, (WebhookConfig, tokio::task::JoinHandle<()>)> = HashMap::new();
    loop {
        let Ok(entry) = app.hall(&hall) else { return };
        let hooks = match entry.config.read() {
            Ok(c) => c.webhooks.clone(),
            Err(p) => p.into_inner().webhooks.clone(),
        };
        running.retain(|_, (cfg, task)| {
            let keep = hooks.contains(cfg) && !task.is_finished();
            if !keep {
                task.abort();
            }
            keep
        });
        for cfg in hooks {
            let key = cfg.key().to_string();
            if running.contains_key(&key) {
                continue;
            }
            let task = deliver::HookTask {
                hall: Arc::from(hall.as_str()),
                cfg: cfg.clone(),
                store: app.store.clone(),
                handle: entry.handle.clone(),
                positions: positions.clone(),
            };
            running.insert(key, (cfg, tokio::spawn(task.run())));
        }
        tokio::time::sleep(CONFIG_CHECK).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_payloads_never_carry_configuration() {
        let mut hall = hallcall_core::Hall::new(hallcall_core::demo::demo_hall());
        let edit = hallcall_core::hall::admin::ConfigEdit::ResetPin {
            id: "s01".into(),
            pin_hash: "$argon2id$secret-hash".into(),
        };
        let evs = hall
            .handle(
                hallcall_core::Command::EditConfig {
                    edit: Box::new(edit),
                },
                hallcall_core::Actor::Supervisor,
                1_795_395_600_000,
            )
            .expect("edit");
        let ev = evs.last().expect("config_edited");
        assert_eq!(ev.type_name(), "config_edited");
        let body = body_of(ev, WebhookPayload::Full);
        assert!(
            !body.contains("argon2") && !body.contains("kiosk-demo"),
            "{body}"
        );
        assert!(body.contains("\"op\":\"reset_pin\""), "{body}");
    }

    #[test]
    fn the_signature_is_hmac_sha256_rfc_4231_case_2() {
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
