//! Every public type can cross threads.

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn public_types_are_send_and_sync() {
    use double_random::audit::{AuditRecord, Commitment, DrawLog, Outputs};
    use double_random::frame::Frame;
    use double_random::inputs::Population;
    use double_random::key::{Digest, Salt};
    use double_random::model::Ratio;
    use double_random::*;
    assert_send_sync::<Error>();
    assert_send_sync::<ErrorKind>();
    assert_send_sync::<Location>();
    assert_send_sync::<Inputs>();
    assert_send_sync::<Plan>();
    assert_send_sync::<Population>();
    assert_send_sync::<Frame>();
    assert_send_sync::<Draw>();
    assert_send_sync::<Seed>();
    assert_send_sync::<Salt>();
    assert_send_sync::<Digest>();
    assert_send_sync::<Ratio>();
    assert_send_sync::<Commitment>();
    assert_send_sync::<AuditRecord>();
    assert_send_sync::<Outputs>();
    assert_send_sync::<Verification>();
    assert_send_sync::<JointDraw>();
    assert_send_sync::<Drawer<'static>>();
    assert_send_sync::<Drawn>();
    assert_send_sync::<Verifier<'static>>();
    assert_send_sync::<DrawLog>();
    assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
}
