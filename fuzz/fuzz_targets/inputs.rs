//! Every other CSV loader: the first byte picks the file the rest replaces.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let names = [
        "items.csv",
        "history.csv",
        "directed.csv",
        "calendar.csv",
        "inspectors.csv",
        "conflicts.csv",
    ];
    let name = names[usize::from(pick) % names.len()];
    common::load_and_draw(common::PLAN.as_bytes(), Some((name, rest)));
});
