//! How long operations report what they are doing.

/// What a long operation reports as it goes, for a progress display.
///
/// A draw or a verification at national scale takes minutes, and a
/// fairness simulation runs many draws; each of them takes one
/// [`OnProgress`] callback and calls it with these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress<'a> {
    /// A new step begins: "reading plan.json and its inputs", "building
    /// the frames", "drawing", "writing the outputs", "replaying the
    /// draw", "comparing the outputs".
    Step(&'a str),
    /// `done` of `total` units of a counted step are finished (the runs
    /// of a fairness simulation).
    Count {
        /// Units finished.
        done: u64,
        /// Units in all.
        total: u64,
    },
}

/// The progress callback every long operation takes. It may be called
/// from any thread, hence `Sync`.
///
/// ```
/// use double_random::{OnProgress, Progress};
///
/// let show: OnProgress<'_> = &|p| {
///     if let Progress::Step(step) = p {
///         eprintln!("{step}");
///     }
/// };
/// show(Progress::Step("drawing"));
/// ```
pub type OnProgress<'a> = &'a (dyn Fn(Progress<'_>) + Sync);

/// A callback that shows nothing.
pub(crate) fn silent(_: Progress<'_>) {}
