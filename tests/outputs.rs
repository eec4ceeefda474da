//! Output directories: concurrent draws into one directory never leave a
//! mixed or partial directory, nor temporary files.

use std::path::Path;

use double_random::{Seed, draw_to_dir, verify};

#[test]
fn concurrent_draws_into_one_directory() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let results: Vec<bool> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let (fixtures, out) = (&fixtures, &out);
                scope.spawn(move || {
                    let seed = Seed::new(format!("seed {i}")).unwrap();
                    draw_to_dir(&[&fixtures.join("plan.json")], &seed, &[], out, false).is_ok()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(results.iter().any(|&ok| ok), "no draw succeeded");
    // Whichever draw won, the directory is complete and consistent.
    let v = verify(&out.join("record.json"), None).unwrap();
    assert!(v.is_verified(), "{:?}", v.differences);
    let names: Vec<String> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["out"], "temporary directories left behind");
}
