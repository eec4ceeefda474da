//! The entity loader on any bytes, alone and inside a whole draw.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = double_random::inputs::Population::from_csv("entities.csv", data) {
        let all: Vec<usize> = (0..p.len()).collect();
        let _ = p.names(&all);
        for e in p.iter() {
            assert_eq!(p.index_of(e.id()), Some(e.index()));
        }
    }
    common::load_and_draw(common::PLAN.as_bytes(), Some(("entities.csv", data)));
});
