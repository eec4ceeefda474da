//! The plan parser and the cross-file checks, with a whole draw when the plan loads.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = double_random::Plan::from_json("plan.json", text);
    }
    common::load_and_draw(data, None);
});
