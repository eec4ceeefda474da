//! The record, commitment and draw-log parsers, and verifying a record
//! from any bytes against the small inputs.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let _ = double_random::audit::AuditRecord::from_json("record.json", data);
    let _ = double_random::audit::Commitment::from_json("commitment.json", data);
    let log = double_random::audit::DrawLog::parse("draws.jsonl", data);
    let _ = (log.is_intact(), log.head());
    // Verify the bytes as a record sitting beside real inputs.
    let dir = common::input_dir().join("out");
    let _ = std::fs::create_dir_all(&dir);
    if std::fs::write(dir.join("record.json"), data).is_ok() {
        let _ = double_random::Verifier::new(dir.join("record.json")).run();
        let _ = double_random::Verifier::new(dir.join("record.json"))
            .log(common::input_dir().join("draws.jsonl"))
            .replay(false)
            .run();
    }
});
