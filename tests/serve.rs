//! `double-random serve` over HTTP, without a browser: what it serves, and
//! that nothing outside the working folder is read or written
//! (tests/browser drives the pages in headless Chromium).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use double_random::serve::{Options, start};

/// One HTTP request; the status and the body.
fn http(addr: &str, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n{}Connection: close\r\n\r\n",
        body.len(),
        if method == "GET" { "" } else { "X-Double-Random: 1\r\n" }
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_string());
    (status, body)
}

#[test]
fn the_server_draws_verifies_and_stays_in_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_fixture_inputs(dir.path(), &[]);
    let running = start(Options {
        dir: dir.path().to_path_buf(),
        addr: "127.0.0.1:0".into(),
        max_upload: 1 << 20,
    })
    .unwrap();
    let addr = running.addr.clone();

    let (status, body) = http(&addr, "GET", "/api/plans", b"");
    assert_eq!((status, body.as_str()), (200, r#"{"ok":true,"result":["plan.json"]}"#));
    let (status, page) = http(&addr, "GET", "/", b"");
    assert_eq!(status, 200);
    assert!(page.contains("双随机"));

    let seed = br#"{"plan": "plan.json", "seed": "2027-03-01 lottery 0417 2953"}"#;
    // A request that writes, without the page's header (another site's form or fetch), is refused.
    let mut s = TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "POST /api/draw HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        seed.len()
    )
    .unwrap();
    s.write_all(seed).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(!dir.path().join("draws").exists());
    let (status, body) = http(&addr, "POST", "/api/draw", seed);
    assert_eq!(status, 200, "{body}");
    let golden = std::fs::read(common::fixture_path("golden/selection.csv")).unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("draws/plan-1/selection.csv")).unwrap(),
        golden
    );
    let (status, body) = http(&addr, "GET", "/download/plan-1/selection.csv", b"");
    assert_eq!((status, body.as_bytes()), (200, &golden[..]));

    // An error in the page's language, with its position.
    let (status, body) = http(&addr, "POST", "/api/draw", br#"{"plan": "plan.json", "seed": ""}"#);
    assert_eq!(status, 422);
    assert!(body.contains(r#""message":"种子：种子为空""#), "{body}");
    let (_, body) = http(
        &addr,
        "POST",
        "/api/draw?lang=en",
        br#"{"plan": "plan.json", "seed": ""}"#,
    );
    assert!(body.contains(r#""message":"seed: the seed is empty""#), "{body}");

    // Nothing outside the working folder, and nothing but a draw's outputs.
    for path in [
        "/download/plan-1/..%2F..%2Fplan.json",
        "/download/..%2F..%2F..%2Fetc/passwd",
        "/download/plan-1/draw-log.jsonl",
        "/download/%2E%2E/plan.json",
    ] {
        assert_eq!(http(&addr, "GET", path, b"").0, 404, "{path}");
    }
    let (status, body) = http(&addr, "GET", "/api/commitment?plan=..%2Fplan.json", b"");
    assert_eq!(status, 422, "{body}");
    // A plan whose input lies outside the folder is refused, not read.
    let mut outside: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("plan.json")).unwrap()).unwrap();
    outside["inputs"]["entities"] = "../entities.csv".into();
    std::fs::write(dir.path().join("outside.json"), outside.to_string()).unwrap();
    let (status, body) = http(&addr, "GET", "/api/commitment?plan=outside.json&lang=en", b"");
    assert_eq!(status, 422, "{body}");
    assert!(
        body.contains("outside.json, field inputs.entities: ../entities.csv is outside the working folder"),
        "{body}"
    );
    let (status, _) = http(
        &addr,
        "POST",
        "/api/draw",
        br#"{"plan": "outside.json", "seed": "2027-03-01 lottery 0417 2953"}"#,
    );
    assert_eq!(status, 422);

    // Uploads: plain names only, bounded in size, never over another.
    let (_, session) = http(&addr, "POST", "/api/session", b"");
    let session: serde_json::Value = serde_json::from_str(&session).unwrap();
    let id = session["result"].as_str().unwrap();
    assert_eq!(
        http(&addr, "PUT", &format!("/api/upload/{id}/..%2Fescape.csv"), b"x").0,
        404
    );
    assert!(!dir.path().join("uploads/escape.csv").exists());
    assert_eq!(
        http(
            &addr,
            "PUT",
            &format!("/api/upload/{id}/big.csv"),
            &vec![b'x'; (1 << 20) + 1]
        )
        .0,
        413
    );
    assert_eq!(http(&addr, "PUT", &format!("/api/upload/{id}/a.csv"), b"x").0, 200);
    assert_eq!(http(&addr, "PUT", &format!("/api/upload/{id}/a.csv"), b"y").0, 409);
    assert_eq!(
        std::fs::read(dir.path().join("uploads").join(id).join("a.csv")).unwrap(),
        b"x"
    );
    running.stop();
}
