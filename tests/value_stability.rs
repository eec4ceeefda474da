//! Value-stability tests: hard-coded DR3 outputs.
//!
//! The seed digest, salt, keys, offsets, allocations and the fixture
//! selection were checked against an independent Python implementation of
//! DESIGN.md's DR1, whose keys, salts and allocations DR3 keeps (standard
//! library only); the frame digest is this
//! crate's own commitment format. These tests must
//! break when key derivation, allocation, selection or the frame digest
//! change; such a change is a new spec id (DR4) and a
//! "Reproducibility-breaking changes" entry in CHANGELOG.md, never an
//! update of the literals.

use double_random::audit::Commitment;
use double_random::draw::allocate;
use double_random::key::Salt;
use double_random::{Draw, Inputs, Seed};

const SEED: &str = "2027-03-01 lottery 0417 2953";

#[test]
fn value_stability_seed_digest() {
    let s = Seed::new(SEED).unwrap();
    assert_eq!(
        s.digest().to_hex(),
        "23301ce573e6360dc94adf109eae0370f1af6fd1ae3083c224088376d251b93b"
    );
    // Non-ASCII seed text is hashed as its UTF-8 bytes.
    assert_eq!(
        Seed::new("双随机 一公开").unwrap().digest().to_hex(),
        "5e1084bf44ae7f6042c760f49ed771018b65d739197f6c508d822aaefc2b6146"
    );
}

#[test]
fn value_stability_salt_and_keys() {
    let salt = Salt::derive(&Seed::new(SEED).unwrap(), "140930202703011001", "2027-1");
    assert_eq!(
        salt.digest().to_hex(),
        "9f0a404831ce47f311a7635fb3a0ef46c5d17e74f9a09095f5809edc119318a3"
    );
    let keys = [
        (
            "91140930MA0K0001X1",
            "25131136f5314d4df025b80e39bf34af805882d5b962a1fccfcf6679b6bfdb3a",
        ),
        (
            "9114093000003FYB9W",
            "0854e8c8f5f8d57c06a3e33657ad1c3feb452023240179481ac9992c5387062d",
        ),
        ("E1", "69e8d2689dad172ad5eb283908b1b5be3681ca7749f2c1cc8213ca3dc6f983c1"),
    ];
    for (id, key) in keys {
        assert_eq!(salt.entity_key(id).to_hex(), key, "{id}");
    }
}

#[test]
fn value_stability_allocation() {
    let salt = Salt::derive(&Seed::new(SEED).unwrap(), "140930202703011001", "2027-1");
    assert_eq!(salt.alloc_offset("SCJG", "A"), 0x612ca9597a202968);
    assert_eq!(salt.alloc_offset("SCJG", "D"), 0xe3ff56a96b1047e6);
    assert_eq!(salt.alloc_offset("GAJ", "C"), 0xdf403c6be1762295);
    assert_eq!(
        allocate(10, &[3, 7, 11, 2, 9], 0x612ca9597a202968),
        Some(vec![1, 2, 3, 1, 3])
    );
    assert_eq!(
        allocate(10, &[3, 7, 11, 2, 9], 0xe3ff56a96b1047e6),
        Some(vec![1, 3, 3, 1, 2])
    );
    assert_eq!(allocate(1, &[1; 7], 1 << 63), Some(vec![0, 0, 0, 1, 0, 0, 0]));
    assert_eq!(
        allocate(7, &[1_000_003, 1, 999_999, 5, 77], 12_345_678_901_234_567_890),
        Some(vec![4, 0, 3, 0, 0])
    );
    assert_eq!(allocate(3, &[5, 5, 5, 5], 0), Some(vec![0, 1, 1, 1]));
    assert_eq!(allocate(3, &[5, 5, 5, 5], u64::MAX), Some(vec![1, 1, 1, 0]));
}

fn fixture_draw() -> (Inputs, Draw) {
    let inputs = Inputs::load(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/plan.json")).unwrap();
    let draw = Draw::run(&inputs, &Seed::new(SEED).unwrap()).unwrap();
    (inputs, draw)
}

#[test]
fn value_stability_fixture_selection() {
    let (inputs, draw) = fixture_draw();
    let ids = |dep: &str, class: usize, stratum: &str| -> Vec<String> {
        let d = draw.departments.iter().find(|d| d.department == dep).unwrap();
        let s = d.classes[class].strata.iter().find(|s| s.label() == stratum).unwrap();
        s.selected
            .iter()
            .map(|s| inputs.population().id(s.entity).to_string())
            .collect()
    };
    // Smallest keys per stratum; must break if keys, allocation or order change.
    assert_eq!(
        ids("SCJG", 0, "刘家塔镇"),
        [
            "91140930QHPGHBHX1P",
            "91140930LP1B4L69XH",
            "91140930ANDU21347E",
            "91140930UDHALC9036"
        ]
    );
    assert_eq!(
        ids("SCJG", 0, "单寨乡"),
        [
            "911409303MQNM8121R",
            "91140930MF8EBWUP1E",
            "911409304LEREQ192L",
            "911409309GTQWXD67X",
            "91140930AT3TKF3E53"
        ]
    );
    let c = &draw.departments[0].classes[2];
    let allocated: Vec<u64> = c.strata.iter().map(|s| s.allocated).collect();
    assert_eq!(allocated, [4, 2, 4, 6, 2, 5, 2, 4, 4, 4, 3]);
    let per_department: Vec<u64> = draw
        .departments
        .iter()
        .map(|d| d.classes.iter().map(|c| c.selected()).sum())
        .collect();
    assert_eq!(per_department, [187, 5, 5, 6]);
    // SCJG's 69 class-A selections are off-site checks, not visits.
    assert_eq!(draw.visits.len(), 144);
    assert_eq!(draw.visits[0].id, "V000001");
    assert_eq!(draw.offsite.len(), 69);
    let first = &draw.offsite[0];
    assert_eq!(
        (first.id.as_str(), first.reviewer.as_deref(), first.due.to_string()),
        ("R000001", Some("SCJG-003"), "2027-05-31".to_string())
    );
}

#[test]
fn value_stability_frame_digest() {
    let (inputs, _) = fixture_draw();
    assert_eq!(
        Commitment::compute(&inputs).unwrap().frame_sha256,
        "8dba73d9613c24f7e4323f0f76d52fffc45142325a8665ee22a874c183d5ab6a"
    );
}
