//! 同城通办 overview (issue 15 item 9): one line per hall read off its view.

mod common;

use common::*;
use hallcall_core::model::Level;
use hallcall_core::overview::RedWarning;

fn red_categories(o: &hallcall_core::overview::HallOverview) -> Vec<String> {
    o.red
        .iter()
        .filter_map(|r| match r {
            RedWarning::Category { id, .. } => Some(id.clone()),
            RedWarning::Window { .. } => None,
        })
        .collect()
}

#[test]
fn the_overview_counts_waiting_the_longest_wait_open_windows_and_red_warnings() {
    let mut h = H::demo();
    h.tick();
    h.login("s01", 1);
    for _ in 0..3 {
        h.issue("general");
    }
    h.advance(60);
    let o = h.hall.view(h.now).overview();
    assert_eq!(o.hall, "demo");
    assert!(o.open_today);
    assert_eq!(o.waiting, 3);
    assert_eq!(o.longest_wait_s, 60);
    assert_eq!(o.open_windows, 1);
    assert_eq!(o.windows, h.hall.config().windows.len() as u32);
    assert!(
        !red_categories(&o).contains(&"general".to_string()),
        "{o:?}"
    );

    // Past the wait target the category is red, and so is the hall.
    let target = h
        .hall
        .config()
        .category("general")
        .expect("general")
        .wait_target_s;
    h.advance(i64::from(target));
    h.tick();
    let o = h.hall.view(h.now).overview();
    assert_eq!(o.longest_wait_s, 60 + i64::from(target));
    assert!(red_categories(&o).contains(&"general".to_string()), "{o:?}");
    assert_eq!(o.level, Level::Red);

    // Served: nobody waits, the wait warning is gone.
    while h.serve(1, 60).is_some() {}
    h.tick();
    let o = h.hall.view(h.now).overview();
    assert_eq!((o.waiting, o.longest_wait_s), (0, 0));
    assert!(
        !red_categories(&o).contains(&"general".to_string()),
        "{o:?}"
    );
}
