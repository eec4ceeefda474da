//! `double-random serve`: the draw ceremony, public verification and the
//! fairness report in a browser, for the people who run and check a draw
//! without a terminal.
//!
//! A small HTTP server (tiny_http) bound to `127.0.0.1` by default serves
//! three pages, in Chinese with English as an option (`?lang=en`):
//!
//! - **摇号 (the ceremony)**: pick a plan of the working folder, see its
//!   commitment digests, type the seed as the witnesses read it, draw, see
//!   the per-department summary in large type and download the outputs
//!   (CSV and `outputs.xlsx`). Draws go to `draws/` in the working folder,
//!   logged in `draws/draw-log.jsonl`.
//! - **公开验证 (verification)**: drop a published record and its files
//!   (the outputs, the plan and its inputs); the page says 验证通过 or names
//!   each difference. The files go only to this server, into a new folder
//!   under `uploads/`.
//! - **公平性 (fairness)**: a plan drawn many times, with the report's
//!   pictures.
//!
//! Nothing outside the working folder is read or written: plans are named
//! by file name, downloads by a draw's folder and file name, uploads by
//! plain file names, each bounded in size. Errors come back with the same
//! positions as on the command line, in the page's language.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use tiny_http::{Header, Method, Request, Response, Server};

use crate::contract::{self, ErrorReport};
use crate::error::{Error, Location, Result};
use crate::messages::Lang;

/// The pages, the script and the style, built into the binary.
const PAGE: &str = include_str!("page.html");

/// How the server is set up.
#[derive(Debug, Clone)]
pub struct Options {
    /// The working folder: plans are read from it; draws, uploads and
    /// reports are written under it.
    pub dir: PathBuf,
    /// The address to listen on (`127.0.0.1:8080`; port 0 picks one).
    pub addr: String,
    /// The largest file an upload may hold, in bytes.
    pub max_upload: u64,
}

/// A running server: its address, and a way to stop it.
pub struct Running {
    /// The address it listens on, such as `127.0.0.1:41234`.
    pub addr: String,
    server: std::sync::Arc<Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Running {
    /// Stops the server and waits for it.
    pub fn stop(mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Serves until the process ends.
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the server on a thread of its own.
///
/// # Errors
///
/// An [`Io`](crate::ErrorKind::Io) error when the folder does not exist or
/// the address cannot be bound.
pub fn start(options: Options) -> Result<Running> {
    let dir = options.dir.canonicalize().map_err(|e| Error::io(&options.dir, e))?;
    let server =
        Server::http(&options.addr).map_err(|e| Error::io(&options.addr, std::io::Error::other(e.to_string())))?;
    let addr = server
        .server_addr()
        .to_ip()
        .map_or_else(|| options.addr.clone(), |a| a.to_string());
    let server = std::sync::Arc::new(server);
    let state = State {
        dir,
        max_upload: options.max_upload,
        counter: AtomicU64::new(0),
    };
    let listener = server.clone();
    let thread = std::thread::spawn(move || {
        for request in listener.incoming_requests() {
            state.handle(request);
        }
    });
    Ok(Running {
        addr,
        server,
        thread: Some(thread),
    })
}

struct State {
    dir: PathBuf,
    max_upload: u64,
    counter: AtomicU64,
}

/// A reply: its status, content type and body.
struct Reply {
    status: u16,
    kind: &'static str,
    body: Vec<u8>,
    download: Option<String>,
}

impl Reply {
    fn json(value: &Value) -> Reply {
        Reply {
            status: 200,
            kind: "application/json; charset=utf-8",
            body: value.to_string().into_bytes(),
            download: None,
        }
    }

    fn error(status: u16, report: ErrorReport) -> Reply {
        Reply {
            status,
            ..Reply::json(&json!({"ok": false, "error": report}))
        }
    }

    /// A request's answer: its result, or its error (422) in the page's language.
    fn answer<T: serde::Serialize>(result: Result<T>, lang: Lang) -> Reply {
        match result {
            Ok(r) => Reply::json(&json!({"ok": true, "result": r})),
            Err(e) => Reply::error(422, report(&e, lang)),
        }
    }

    fn not_found() -> Reply {
        Reply {
            status: 404,
            kind: "text/plain; charset=utf-8",
            body: b"not found".to_vec(),
            download: None,
        }
    }
}

/// An error as the page shows it: the contract's report, its message in
/// the page's language.
fn report(e: &Error, lang: Lang) -> ErrorReport {
    let mut r = ErrorReport::from(e);
    r.message = e.localized(lang);
    r
}

/// A plain file name: no folder, no `..`, nothing hidden.
fn plain_name(name: &str) -> Option<&str> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0', ':'])
        && name != "..";
    ok.then_some(name)
}

fn query(url: &str) -> Vec<(String, String)> {
    let Some((_, q)) = url.split_once('?') else {
        return Vec::new();
    };
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

/// A percent-encoded path segment or query value, decoded.
fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

impl State {
    fn handle(&self, mut request: Request) {
        let url = request.url().to_string();
        let path = url.split('?').next().unwrap_or("").to_string();
        let params = query(&url);
        let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let lang = match param("lang").as_deref() {
            Some("en") => Lang::En,
            _ => Lang::Zh,
        };
        let method = request.method().clone();
        // Another web site open in the same browser may send requests here;
        // it cannot add this header without the server's consent (which it
        // never gives), so a request that changes anything must carry it.
        let ours = request
            .headers()
            .iter()
            .any(|h| h.field.equiv("X-Double-Random") && h.value.as_str() == "1");
        if method != Method::Get && !ours {
            let e = Error::policy(
                Location::file("request"),
                "a request that writes must come from this server's page",
            );
            return respond(request, Reply::error(403, report(&e, lang)));
        }
        let reply = match (&method, path.as_str()) {
            (Method::Get, "/" | "/verify" | "/fairness") => Reply {
                status: 200,
                kind: "text/html; charset=utf-8",
                body: PAGE.as_bytes().to_vec(),
                download: None,
            },
            (Method::Get, "/favicon.ico") => Reply {
                status: 204,
                body: Vec::new(),
                ..Reply::not_found()
            },
            (Method::Get, "/api/plans") => self.plans(),
            (Method::Get, "/api/commitment") => self.commitment(param("plan").as_deref(), lang),
            (Method::Post, "/api/draw") => match read_json(&mut request, 1 << 16) {
                Ok(body) => self.draw(&body, lang),
                Err(e) => Reply::error(400, report(&e, lang)),
            },
            (Method::Post, "/api/fairness") => match read_json(&mut request, 1 << 16) {
                Ok(body) => self.fairness(&body, lang),
                Err(e) => Reply::error(400, report(&e, lang)),
            },
            (Method::Post, "/api/session") => self.session(),
            (Method::Put, p) if p.starts_with("/api/upload/") => self.upload(&mut request, p, lang),
            (Method::Post, p) if p.starts_with("/api/verify/") => self.verify(p, lang),
            (Method::Get, p) if p.starts_with("/download/") => self.download(p),
            _ => Reply::not_found(),
        };
        respond(request, reply);
    }

    /// The plans in the working folder: its `.json` files that read as plans.
    fn plans(&self) -> Reply {
        let mut plans = Vec::new();
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.ends_with(".json") && crate::inputs::read_plan(&e.path()).is_ok() {
                    plans.push(name);
                }
            }
        }
        plans.sort();
        Reply::json(&json!({"ok": true, "result": plans}))
    }

    /// The plan `name` of the working folder, whose inputs are all in it.
    fn plan(&self, name: Option<&str>) -> Result<PathBuf> {
        let name = name.and_then(plain_name).ok_or_else(|| {
            Error::policy(
                Location::file("plan"),
                "name a plan of the working folder by its file name",
            )
        })?;
        let plan = self.dir.join(name);
        inputs_within(&plan, &self.dir)?;
        Ok(plan)
    }

    fn commitment(&self, plan: Option<&str>, lang: Lang) -> Reply {
        let computed = self
            .plan(plan)
            .and_then(|p| crate::audit::Commitment::load_and_compute(&p, crate::FrameMode::Auto));
        match computed {
            Ok((_, c)) => {
                // The commitment published for this task, if the folder holds one.
                let published = self.published_commitment(&c.task_id, &c.round_id).map(|(name, p)| {
                    let differences: Vec<String> = p
                        .differences_from(&c)
                        .iter()
                        .map(|d| crate::messages::phrase(d, lang))
                        .collect();
                    json!({"file": name, "differences": differences})
                });
                Reply::json(&json!({"ok": true, "result": c, "published": published}))
            }
            Err(e) => Reply::error(422, report(&e, lang)),
        }
    }

    /// A commitment in the working folder (a `.json` file that reads as
    /// one) for this task and round: the draw is checked against it.
    fn published_commitment(&self, task: &str, round: &str) -> Option<(String, crate::audit::Commitment)> {
        let mut found: Vec<(String, crate::audit::Commitment)> = std::fs::read_dir(&self.dir)
            .ok()?
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let bytes = name
                    .ends_with(".json")
                    .then(|| std::fs::read(e.path()).ok())
                    .flatten()?;
                let c = crate::audit::Commitment::from_json(&name, &bytes).ok()?;
                (c.task_id == task && c.round_id == round).then_some((name, c))
            })
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found.into_iter().next()
    }

    fn draw(&self, body: &Value, lang: Lang) -> Reply {
        let result = self.plan(body["plan"].as_str()).and_then(|plan| {
            let seed = body["seed"].as_str().unwrap_or_default().to_string();
            let draws = self.dir.join("draws");
            let stem = plan
                .file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
            let out = (1..)
                .map(|n| draws.join(format!("{stem}-{n}")))
                .find(|p| std::fs::symlink_metadata(p).is_err())
                .unwrap_or_else(|| draws.join(stem));
            let commitments = crate::inputs::read_plan(&plan)
                .ok()
                .and_then(|(_, _, p)| self.published_commitment(p.task_id(), p.round_id()))
                .map(|(name, _)| vec![self.dir.join(name)])
                .unwrap_or_default();
            let request = contract::DrawRequest {
                plans: vec![plan],
                seed,
                out,
                commitments,
                log: Some(draws.join("draw-log.jsonl")),
                redraw_reason: body["redraw_reason"].as_str().map(str::to_string),
                force: false,
                frame: contract::Frame::Auto,
                tables: false,
                xlsx: true,
            };
            contract::draw(&request, &crate::progress::silent).map(|mut r| {
                r.summary = String::new();
                // The page names the folder by its place in the working folder.
                r.out = request
                    .out
                    .strip_prefix(&self.dir)
                    .map_or_else(|_| r.out.clone(), |p| p.display().to_string());
                r
            })
        });
        Reply::answer(result, lang)
    }

    fn fairness(&self, body: &Value, lang: Lang) -> Reply {
        let result = self.plan(body["plan"].as_str()).and_then(|plan| {
            let runs = body["runs"].as_u64().unwrap_or(200).clamp(1, 100_000);
            let seed = body["seed"].as_str().unwrap_or("fairness").to_string();
            let inputs = crate::Inputs::load(&plan)?;
            let r = crate::fairness::simulate(&inputs, &seed, runs, &crate::progress::silent)?;
            let svg = crate::fairness::fairness_svg_in(&r, lang);
            Ok(json!({"report": r, "svg": svg}))
        });
        Reply::answer(result, lang)
    }

    /// A new upload folder under `uploads/`.
    fn session(&self) -> Reply {
        let base = self.dir.join("uploads");
        for _ in 0..1000 {
            let n = self.counter.fetch_add(1, Ordering::Relaxed);
            let stamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let id = format!("{stamp}-{n}");
            if std::fs::create_dir_all(&base).is_ok() && std::fs::create_dir(base.join(&id)).is_ok() {
                return Reply::json(&json!({"ok": true, "result": id}));
            }
        }
        Reply::not_found()
    }

    /// The upload folder a path names (`/api/…/<session>/…`).
    fn session_dir(&self, id: &str) -> Option<PathBuf> {
        let id = plain_name(id)?;
        let dir = self.dir.join("uploads").join(id);
        dir.is_dir().then_some(dir)
    }

    fn upload(&self, request: &mut Request, path: &str, lang: Lang) -> Reply {
        let rest = &path["/api/upload/".len()..];
        let Some((id, name)) = rest.split_once('/') else {
            return Reply::not_found();
        };
        let name = decode(name);
        let (Some(dir), Some(name)) = (self.session_dir(id), plain_name(&name)) else {
            return Reply::not_found();
        };
        let target = dir.join(name);
        let mut body = Vec::new();
        let read = request.as_reader().take(self.max_upload + 1).read_to_end(&mut body);
        if read.is_err() || body.len() as u64 > self.max_upload {
            let e = Error::policy(
                Location::file(name),
                format!("the file is larger than an upload may be ({} bytes)", self.max_upload),
            );
            return Reply::error(413, report(&e, lang));
        }
        if std::fs::symlink_metadata(&target).is_ok() {
            let e = Error::policy(Location::file(name), "a file of this name was uploaded already");
            return Reply::error(409, report(&e, lang));
        }
        match std::fs::write(&target, &body) {
            Ok(()) => Reply::json(&json!({"ok": true, "result": name})),
            Err(e) => Reply::error(500, report(&Error::io(name, e), lang)),
        }
    }

    fn verify(&self, path: &str, lang: Lang) -> Reply {
        let id = &path["/api/verify/".len()..];
        let Some(dir) = self.session_dir(id) else {
            return Reply::not_found();
        };
        let record = dir.join("record.json");
        // The plan among the files: a .json that reads as a plan.
        let plan = std::fs::read_dir(&dir).ok().and_then(|entries| {
            let mut plans: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json") && crate::inputs::read_plan(p).is_ok())
                .collect();
            plans.sort();
            plans.into_iter().next()
        });
        let Some(plan) = plan else {
            let e = Error::policy(
                Location::file("record.json"),
                "the files hold no plan: add the plan and its input files to the record and its outputs",
            );
            return Reply::error(422, report(&e, lang));
        };
        if let Err(e) = inputs_within(&plan, &dir) {
            return Reply::error(422, report(&e, lang));
        }
        let request = contract::VerifyRequest {
            record,
            plan: Some(plan),
            log: None,
            frame: contract::Frame::Auto,
        };
        let result = contract::verify(&request, &crate::progress::silent).map(|mut r| {
            r.record = "record.json".into();
            // The page shows the differences in its language.
            for d in r.differences.iter_mut().chain(r.notes.iter_mut()) {
                *d = crate::messages::phrase(d, lang);
            }
            r
        });
        Reply::answer(result, lang)
    }

    /// A file of a draw: `/download/<draw folder>/<file>`, only the
    /// output files of folders under `draws/`.
    fn download(&self, path: &str) -> Reply {
        let rest = &path["/download/".len()..];
        let Some((folder, name)) = rest.split_once('/') else {
            return Reply::not_found();
        };
        let (folder, name) = (decode(folder), decode(name));
        let allowed = crate::audit::is_draw_file(&name);
        let (Some(folder), true) = (plain_name(&folder), allowed) else {
            return Reply::not_found();
        };
        let file: PathBuf = self.dir.join("draws").join(folder).join(&name);
        match crate::inputs::io::read_file(&file, &name) {
            Ok(body) => Reply {
                status: 200,
                kind: content_type(&name),
                body,
                download: Some(name),
            },
            Err(_) => Reply::not_found(),
        }
    }
}

/// Refuses a plan that names an input outside `dir` (`../…`), which the
/// server must not read.
fn inputs_within(plan: &Path, dir: &Path) -> Result<()> {
    let (name, plan_dir, parsed) = crate::inputs::read_plan(plan)?;
    let dir = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
    for (role, path) in parsed.inputs.iter() {
        let inside = plan_dir
            .join(path)
            .canonicalize()
            .map_or_else(|_| !path.contains(".."), |p| p.starts_with(&dir));
        if !inside {
            return Err(Error::policy(
                Location::file(name).with_field(format!("inputs.{role}")),
                format!("{path} is outside the working folder, which is all this server reads"),
            ));
        }
    }
    Ok(())
}

/// Sends a reply, with the headers every answer carries.
fn respond(request: Request, reply: Reply) {
    let mut response = Response::from_data(reply.body).with_status_code(reply.status);
    for (k, v) in [
        ("Content-Type", reply.kind.to_string()),
        ("X-Content-Type-Options", "nosniff".to_string()),
        ("Cache-Control", "no-store".to_string()),
    ]
    .into_iter()
    .chain(
        reply
            .download
            .map(|name| ("Content-Disposition", format!("attachment; filename=\"{name}\""))),
    ) {
        if let Ok(h) = Header::from_bytes(k.as_bytes(), v.as_bytes()) {
            response.add_header(h);
        }
    }
    let _ = request.respond(response);
}

fn content_type(name: &str) -> &'static str {
    match Path::new(name).extension().and_then(|e| e.to_str()) {
        Some("csv") => "text/csv; charset=utf-8",
        Some("json") => "application/json; charset=utf-8",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => "application/octet-stream",
    }
}

fn read_json(request: &mut Request, limit: u64) -> Result<Value> {
    let mut body = Vec::new();
    request
        .as_reader()
        .take(limit)
        .read_to_end(&mut body)
        .map_err(|e| Error::io("request", e))?;
    serde_json::from_slice(&body).map_err(|e| Error::syntax(Location::file("request"), e.to_string()))
}
