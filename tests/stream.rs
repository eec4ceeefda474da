//! The streamed frame (issue 21): a draw whose entity file is read in
//! chunks writes the same files, byte for byte, as the draw that holds the
//! whole library, reports the same errors, and verifies in either mode.

use std::path::{Path, PathBuf};

use double_random::synth::synth;
use double_random::{Drawer, FrameMode, Seed, Verifier};

const SEED: &str = "ceremony 2027-04-01 / 31 07 19 44";

/// Draws `plan` into `out` in `mode` (streamed in chunks of `chunk` entities).
fn draw(plan: &Path, out: &Path, mode: FrameMode, chunk: usize) -> double_random::Result<()> {
    Drawer::new(Seed::new(SEED).unwrap(), out)
        .plan(plan)
        .frame_mode(mode)
        .stream_chunk(chunk)
        .run()
        .map(|_| ())
}

/// Every file of a draw's output folder, by name.
fn files(out: &Path) -> Vec<(String, Vec<u8>)> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(out).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    names
        .into_iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

fn same_outputs(a: &Path, b: &Path) {
    let (a, b) = (files(a), files(b));
    assert_eq!(
        a.iter().map(|f| &f.0).collect::<Vec<_>>(),
        b.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{name} differs between the in-memory and the streamed draw");
    }
}

fn verify(record: &Path, mode: FrameMode, chunk: usize) -> Vec<String> {
    Verifier::new(record)
        .frame_mode(mode)
        .stream_chunk(chunk)
        .run()
        .unwrap()
        .differences
}

#[test]
fn a_streamed_synth_draw_is_the_in_memory_draw_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Over 16 MB: five parts of the file, so five chunks at the smallest size.
    let summary = synth(&data, 150_000, "stream check").unwrap();
    assert!(summary.history > 0 && summary.directed > 0);
    let text = std::fs::read_to_string(data.join("entities.csv")).unwrap();
    assert!(text.len() > 3 * (4 << 20), "the file is read in several parts of 4 MiB");
    let ids: Vec<&str> = text.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert!(ids.windows(2).any(|w| w[0] > w[1]), "the ids are not in file order");
    let plan = data.join("plan.json");
    let memory = dir.path().join("memory");
    draw(&plan, &memory, FrameMode::InMemory, 1).unwrap();
    let lines = std::fs::read_to_string(memory.join("exclusions.csv"))
        .unwrap()
        .lines()
        .count();
    assert!(lines > 1_000, "the draw excludes entities ({lines} lines)");
    for (chunk, name) in [
        (1, "one-part-chunks"),
        (40_000, "two-part-chunks"),
        (1 << 22, "one-chunk"),
    ] {
        let out = dir.path().join(name);
        draw(&plan, &out, FrameMode::Streamed, chunk).unwrap();
        same_outputs(&memory, &out);
    }
    // Each mode verifies the other's draw.
    assert_eq!(
        verify(&memory.join("record.json"), FrameMode::Streamed, 1),
        Vec::<String>::new()
    );
    assert_eq!(
        verify(&dir.path().join("one-part-chunks/record.json"), FrameMode::InMemory, 1),
        Vec::<String>::new()
    );
    // A changed exclusion is a difference in the streamed replay too.
    let path = memory.join("exclusions.csv");
    let changed = std::fs::read_to_string(&path)
        .unwrap()
        .replacen(",cooldown\n", ",annual_cap\n", 1);
    std::fs::write(&path, changed).unwrap();
    let differences = verify(&memory.join("record.json"), FrameMode::Streamed, 1);
    assert_eq!(differences.len(), 1, "{differences:?}");
    assert!(differences[0].starts_with("exclusions.csv"), "{differences:?}");
}

#[test]
fn the_fixture_draw_streamed_is_the_golden_draw() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let seed = Seed::new("2027-03-01 lottery 0417 2953").unwrap();
    let (memory, out) = (dir.path().join("memory"), dir.path().join("out"));
    for (mode, folder) in [(FrameMode::InMemory, &memory), (FrameMode::Streamed, &out)] {
        Drawer::new(seed.clone(), folder)
            .plan(fixtures.join("plan.json"))
            .commitment(fixtures.join("commitment.json"))
            .frame_mode(mode)
            .run()
            .unwrap();
    }
    same_outputs(&memory, &out);
    for name in ["selection.csv", "visits.csv", "exclusions.csv", "public.csv"] {
        assert!(
            std::fs::read(out.join(name)).unwrap() == std::fs::read(fixtures.join("golden").join(name)).unwrap(),
            "{name} differs from the golden file"
        );
    }
    assert_eq!(
        verify(&out.join("record.json"), FrameMode::Streamed, 1),
        Vec::<String>::new()
    );
    let (_, commitment) =
        double_random::audit::Commitment::load_and_compute(&fixtures.join("plan.json"), FrameMode::Streamed).unwrap();
    assert_eq!(
        commitment.to_json().as_bytes(),
        std::fs::read(fixtures.join("commitment.json")).unwrap()
    );
}

/// A synth folder of `n` entities whose entity file is then changed by `edit`.
fn edited(dir: &Path, n: u64, edit: impl FnOnce(&mut Vec<String>)) -> PathBuf {
    let data = dir.join("data");
    synth(&data, n, "stream errors").unwrap();
    let path = data.join("entities.csv");
    let mut lines: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    edit(&mut lines);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    data.join("plan.json")
}

/// The error of a draw of `plan` in memory, which the streamed draw must equal.
fn same_error(dir: &Path, plan: &Path) -> String {
    let memory = draw(plan, &dir.join("m"), FrameMode::InMemory, 1)
        .unwrap_err()
        .to_string();
    let streamed = draw(plan, &dir.join("s"), FrameMode::Streamed, 1)
        .unwrap_err()
        .to_string();
    assert_eq!(memory, streamed);
    assert!(!dir.join("s").exists());
    memory
}

#[test]
fn an_id_repeated_across_chunks_is_reported_as_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let plan = edited(dir.path(), 100_000, |lines| {
        // Line 90,001 repeats line 11's id; line 95,001 repeats line 50,001's.
        let id = |l: &str| l.split(',').next().unwrap().to_string();
        let (a, b) = (id(&lines[10]), id(&lines[50_000]));
        lines[90_000] = lines[90_000].replacen(&id(&lines[90_000]), &a, 1);
        lines[95_000] = lines[95_000].replacen(&id(&lines[95_000]), &b, 1);
    });
    let error = same_error(dir.path(), &plan);
    assert!(error.starts_with("entities.csv, line 90001, field id: "), "{error}");
    assert!(error.contains("line 11"), "{error}");
}

#[test]
fn an_unclassified_entity_and_an_unknown_history_entity_are_reported_as_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let plan = edited(dir.path(), 100_000, |lines| {
        for k in [70_000, 20_000] {
            let mut fields: Vec<&str> = lines[k].split(',').collect();
            fields[2] = "";
            lines[k] = fields.join(",");
        }
    });
    let text = std::fs::read_to_string(&plan).unwrap();
    std::fs::write(&plan, text.replace("\"unclassified_class\": \"B\",", "")).unwrap();
    let error = same_error(dir.path(), &plan);
    assert!(
        error.contains("is unclassified and the plan names no unclassified_class"),
        "{error}"
    );

    let dir = tempfile::tempdir().unwrap();
    let plan = edited(dir.path(), 100_000, |_| {});
    let history = plan.with_file_name("history.csv");
    let mut text = std::fs::read_to_string(&history).unwrap();
    let row = text.lines().nth(1).unwrap().to_string();
    let id = row.split(',').next().unwrap();
    text.push_str(&row.replacen(id, "91140930ZZZZZZZZZZ", 1));
    text.push('\n');
    std::fs::write(&history, text).unwrap();
    let error = same_error(dir.path(), &plan);
    assert!(error.contains("91140930ZZZZZZZZZZ"), "{error}");
}
