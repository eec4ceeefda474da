//! The C ABI of double-random: JSON in, JSON out.
//!
//! Every function takes a request as a NUL-terminated UTF-8 JSON object and
//! returns the [JSON contract](double_random::contract)'s response
//! envelope, `{"ok": true, "result": …}` or `{"ok": false, "error": {"code",
//! "message", "file", "line", "field", …}}`, as a NUL-terminated string
//! that the caller owns and must give back to [`dr_free`], exactly once.
//! The functions never return NULL (except when memory runs out) and never
//! let a panic cross the boundary: a bug inside the library is an error
//! with code `internal`. They may be called from several threads at once.
//!
//! The header `include/double_random.h` is generated from this file by
//! cbindgen (`UPDATE_HEADER=1 cargo test` rewrites it; the test fails
//! when it is out of date).
#![deny(missing_docs)]

use std::ffi::{CStr, CString, c_char};

/// Answers `command` with the request behind `request`.
///
/// # Safety
///
/// `request` is NULL or points to a NUL-terminated string.
unsafe fn answer(command: &str, request: *const c_char) -> *mut c_char {
    let text = if request.is_null() {
        double_random::contract::respond(command, b"null")
    } else {
        // SAFETY: the caller promises a NUL-terminated string.
        let bytes = unsafe { CStr::from_ptr(request) }.to_bytes();
        double_random::contract::respond(command, bytes)
    };
    into_c(text)
}

/// Hands a string to C. A JSON text holds no NUL byte (serde_json escapes
/// it as `\u0000`), so the conversion cannot fail; if it did, the caller
/// gets NULL rather than a truncated answer.
fn into_c(text: String) -> *mut c_char {
    CString::new(text).map_or(std::ptr::null_mut(), CString::into_raw)
}

/// Draws: `{"plans": [...], "seed": "...", "out": "...", ...}` (the
/// contract's `DrawRequest`); writes the outputs and answers with the
/// record, the log entries and, with `"tables": true`, the output tables.
///
/// # Safety
///
/// `request` is NULL or a NUL-terminated string. Free the answer with
/// [`dr_free`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dr_draw(request: *const c_char) -> *mut c_char {
    // SAFETY: passed on from the caller.
    unsafe { answer("draw", request) }
}

/// Writes or computes a commitment: `{"plan": "...", "out": "..."}`.
///
/// # Safety
///
/// As for [`dr_draw`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dr_commit(request: *const c_char) -> *mut c_char {
    // SAFETY: passed on from the caller.
    unsafe { answer("commit", request) }
}

/// Verifies a draw by replay: `{"record": ".../record.json"}`; the
/// result's `verified` is false and `differences` names each file that
/// differs when the draw does not replay.
///
/// # Safety
///
/// As for [`dr_draw`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dr_verify(request: *const c_char) -> *mut c_char {
    // SAFETY: passed on from the caller.
    unsafe { answer("verify", request) }
}

/// Any command of the contract by name (`"draw"`, `"commit"`, `"verify"`,
/// `"fairness"`, `"fairness_year"`, `"audit_observed"`, `"synth"`).
///
/// # Safety
///
/// `command` and `request` are NULL or NUL-terminated strings. Free the
/// answer with [`dr_free`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dr_call(command: *const c_char, request: *const c_char) -> *mut c_char {
    let command = if command.is_null() {
        String::new()
    } else {
        // SAFETY: the caller promises a NUL-terminated string.
        unsafe { CStr::from_ptr(command) }.to_string_lossy().into_owned()
    };
    // SAFETY: passed on from the caller.
    unsafe { answer(&command, request) }
}

/// Gives back a string this library returned. NULL is ignored.
///
/// # Safety
///
/// `answer` is NULL or a pointer returned by this library and not freed
/// yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dr_free(answer: *mut c_char) {
    if !answer.is_null() {
        // SAFETY: the caller promises a pointer from `CString::into_raw` above.
        drop(unsafe { CString::from_raw(answer) });
    }
}

/// The library's version and contract, such as `"0.1.0
/// double-random/1"`: a static string, never to be freed.
#[unsafe(no_mangle)]
pub extern "C" fn dr_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), " double-random/1\0").as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(f: unsafe extern "C" fn(*const c_char) -> *mut c_char, request: &str) -> serde_json::Value {
        let request = CString::new(request).unwrap();
        // SAFETY: a valid string in, the answer freed once.
        unsafe {
            let answer = f(request.as_ptr());
            let value = serde_json::from_slice(CStr::from_ptr(answer).to_bytes()).unwrap();
            dr_free(answer);
            value
        }
    }

    #[test]
    fn the_version_names_the_crate_and_the_contract() {
        // SAFETY: a static NUL-terminated string.
        let v = unsafe { CStr::from_ptr(dr_version()) }.to_str().unwrap();
        assert_eq!(
            v,
            format!("{} {}", env!("CARGO_PKG_VERSION"), double_random::contract::CONTRACT)
        );
    }

    #[test]
    fn null_and_garbage_are_errors_not_crashes() {
        // SAFETY: NULL is allowed.
        let answer = unsafe { dr_verify(std::ptr::null()) };
        // SAFETY: a string from this library, freed once.
        let value: serde_json::Value = serde_json::from_slice(unsafe { CStr::from_ptr(answer) }.to_bytes()).unwrap();
        unsafe { dr_free(answer) };
        assert_eq!(value["ok"], false);
        assert_eq!(value["error"]["file"], "request");
        let value = call(dr_draw, "{\"plans\": 3}");
        assert_eq!(value["error"]["code"], "syntax");
        // SAFETY: NULL is ignored.
        unsafe { dr_free(std::ptr::null_mut()) };
        // SAFETY: NULL command and request.
        let answer = unsafe { dr_call(std::ptr::null(), std::ptr::null()) };
        // SAFETY: a string from this library, freed once.
        let value: serde_json::Value = serde_json::from_slice(unsafe { CStr::from_ptr(answer) }.to_bytes()).unwrap();
        unsafe { dr_free(answer) };
        assert_eq!(value["error"]["code"], "unknown_reference");
    }

    #[test]
    fn a_draw_through_the_abi_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let plan = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/plan.json");
        let out = dir.path().join("out");
        let request = serde_json::json!({"plans": [plan], "seed": "2027-03-01 lottery 0417 2953", "out": out});
        let value = call(dr_draw, &request.to_string());
        assert_eq!(value["ok"], true, "{value:#}");
        let golden = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/golden/selection.csv")).unwrap();
        assert_eq!(std::fs::read(out.join("selection.csv")).unwrap(), golden);
        let request = serde_json::json!({"record": out.join("record.json")});
        let value = call(dr_verify, &request.to_string());
        assert_eq!(value["result"]["verified"], true, "{value:#}");
    }

    #[test]
    fn the_header_is_the_generated_one() {
        let dir = env!("CARGO_MANIFEST_DIR");
        let config = cbindgen::Config::from_file(format!("{dir}/cbindgen.toml")).unwrap();
        let mut generated = Vec::new();
        cbindgen::Builder::new()
            .with_crate(dir)
            .with_config(config)
            .generate()
            .unwrap()
            .write(&mut generated);
        let path = format!("{dir}/include/double_random.h");
        if std::env::var_os("UPDATE_HEADER").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let written = std::fs::read(&path).unwrap_or_default();
        assert!(
            written == generated,
            "include/double_random.h is out of date: run `UPDATE_HEADER=1 cargo test` in capi/ and commit it"
        );
    }
}
