//! Reports over days (issue 15 item 7) and the CSV a manager opens in Excel
//! (issue 13 item 14), through the real server: `GET …/stats?from=&to=`
//! as JSON and CSV, the single-day `?date=` shape kept, and every bad range
//! a JSON 400 that reads nothing.

mod support;

use serde_json::{json, Value};
use support::*;

fn date_minus(date: &str, days: u64) -> String {
    let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("date");
    (d - chrono::Days::new(days)).to_string()
}

/// Two general tickets: one served and rated 5 at window 1 by s01, one a
/// no-show after a recall.
async fn a_short_morning(s: &Server) {
    s.issue("general").await;
    s.issue("general").await;
    let t = s.login("s01", 1).await;
    let first = s.call_next(&t, 1).await;
    let id = first["ticket"]["id"].as_str().expect("id").to_string();
    s.act(&t, 1, "start", None).await.expect(200);
    s.act(&t, 1, "complete", None).await.expect(200);
    s.post(
        &format!("/tickets/{id}/rating"),
        None,
        Some(json!({"score": 5})),
    )
    .await
    .expect(200);
    s.call_next(&t, 1).await;
    s.act(&t, 1, "recall", None).await.expect(200);
    s.act(&t, 1, "no-show", None).await.expect(200);
}

#[tokio::test]
async fn a_report_over_days_has_every_day_names_and_a_csv_for_excel() {
    let s = Server::start().await;
    a_short_morning(&s).await;
    let today = s.state().await["business_date"]
        .as_str()
        .expect("business_date")
        .to_string();
    let from = date_minus(&today, 2);

    let r = s
        .get(&format!("/stats?from={from}&to={today}"), Some(SUPERVISOR))
        .await
        .expect(200);
    assert_eq!(r["hall"], HALL);
    assert_eq!(r["from"], from.as_str());
    let days = r["days"].as_array().expect("days");
    assert_eq!(
        days.len(),
        3,
        "every date of the range, quiet ones too: {r}"
    );
    assert_eq!(days[0]["total"]["issued"], 0, "{r}");
    assert_eq!(days[2]["date"], today.as_str());
    assert_eq!(days[2]["total"]["issued"], 2, "{r}");
    let t = &r["total"]["total"];
    assert_eq!(
        (t["issued"].as_u64(), t["served"].as_u64()),
        (Some(2), Some(1)),
        "{t}"
    );
    assert_eq!(t["no_show"], 1, "{t}");
    assert_eq!(t["no_show_rate"], 0.5, "1 of 2 first calls: {t}");
    assert_eq!(t["rating_levels"], json!([0, 0, 0, 0, 1]), "{t}");
    assert!(t["wait_p50_s"].as_f64().is_some(), "{t}");
    let arrivals: u64 = t["arrivals_by_hour"]
        .as_array()
        .expect("arrivals_by_hour")
        .iter()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(arrivals, 2, "{t}");
    assert_eq!(r["total"]["by_staff"]["s01"]["served"], 1, "{r}");
    assert_eq!(r["names"]["categories"]["general"], "综合业务", "{r}");
    assert_eq!(r["names"]["staff"]["s01"], "张敏", "{r}");
    assert_eq!(r["names"]["windows"]["1"], "综合受理 1号窗口", "{r}");

    // The single day keeps its shape.
    let d = s.get("/stats", Some(SUPERVISOR)).await.expect(200);
    assert_eq!(d["date"], today.as_str());
    assert_eq!(d["stats"]["total"]["issued"], 2, "{d}");
    assert_eq!(d["stats"]["total"]["rating_levels"], json!([0, 0, 0, 0, 1]));

    // CSV by a plain link (format=csv): BOM, Chinese headers, names and ids.
    let csv = s
        .get(
            &format!("/stats?from={from}&to={today}&format=csv"),
            Some(SUPERVISOR),
        )
        .await;
    assert_eq!(csv.status, 200, "{}", csv.text());
    assert!(
        csv.content_type.starts_with("text/csv"),
        "{}",
        csv.content_type
    );
    let disposition = csv
        .headers
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(
        disposition.contains(&format!("{HALL}-{from}_{today}.csv")),
        "{disposition}"
    );
    let text = csv.text();
    assert!(text.starts_with('\u{feff}'), "UTF-8 BOM for Excel");
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert!(
        lines[0].starts_with("日期,统计范围,名称,编号,取号数,叫号数,办结数"),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{from}至{today},合计,全部,,2,2,1,1,50.0%"))),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{today},人员,张敏,s01,0,2,1,1"))),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{today},业务,综合业务,general,2,"))),
        "{text}"
    );
}

#[tokio::test]
async fn bad_report_requests_are_json_400s() {
    let s = Server::start().await;
    let cases = [
        ("/stats?from=2026-11-20&to=2026-11-10", "bad_range"),
        ("/stats?from=2025-01-01&to=2026-11-10", "bad_range"),
        ("/stats?date=2026-11-10&from=2026-11-01", "bad_range"),
        ("/stats?to=2026-11-10", "bad_range"),
        ("/stats?from=2026-13-01&to=2026-11-10", "bad_from"),
        ("/stats?from=2026-11-01&to=tomorrow", "bad_to"),
        ("/stats?date=2026-11-10&format=xlsx", "bad_format"),
    ];
    for (path, code) in cases {
        let r = s.get(path, Some(SUPERVISOR)).await;
        r.expect_error(400, code);
    }
    s.get("/stats?from=2026-11-01&to=2026-11-10", Some(KIOSK))
        .await
        .expect_error(403, "");
}
