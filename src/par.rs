//! Work on every core when the `parallel` feature is on, in order
//! otherwise; results never depend on which.

/// Runs two closures, on two cores when there are.
pub(crate) fn join<A: Send, B: Send>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
    #[cfg(feature = "parallel")]
    {
        rayon::join(a, b)
    }
    #[cfg(not(feature = "parallel"))]
    {
        (a(), b())
    }
}

/// Runs each job once, on every core, starting them in the order given:
/// put the longest first, so that the cores finish together.
pub(crate) fn run_all<'a>(jobs: Vec<Box<dyn FnOnce() + Send + 'a>>) {
    #[cfg(feature = "parallel")]
    rayon::scope_fifo(|s| {
        for job in jobs {
            s.spawn_fifo(move |_| job());
        }
    });
    #[cfg(not(feature = "parallel"))]
    for job in jobs {
        job();
    }
}

/// `f(x)` for each item, in order, computed on every core.
pub(crate) fn map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync + Send) -> Vec<U> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        items.par_iter().with_min_len(min_len(items.len())).map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        items.iter().map(f).collect()
    }
}

/// `f(item, out)` for each item and its own output, on every core.
pub(crate) fn for_each_zip<T: Sync, U: Send>(items: &[T], outs: Vec<U>, f: impl Fn(&T, U) + Sync + Send) {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        items.par_iter().zip(outs).for_each(|(item, out)| f(item, out));
    }
    #[cfg(not(feature = "parallel"))]
    for (item, out) in items.iter().zip(outs) {
        f(item, out);
    }
}

/// `f(i)` for each `i` in `0..n`, in order, computed on every core.
pub(crate) fn map_range<U: Send>(n: usize, f: impl Fn(usize) -> U + Sync + Send) -> Vec<U> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        (0..n).into_par_iter().with_min_len(min_len(n)).map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        (0..n).map(f).collect()
    }
}

/// `f(chunk)` for each chunk of `size` items, in order, computed on every core.
pub(crate) fn map_chunks<T: Sync, U: Send>(items: &[T], size: usize, f: impl Fn(&[T]) -> U + Sync + Send) -> Vec<U> {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        items.par_chunks(size).map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        items.chunks(size).map(f).collect()
    }
}

/// `f(start, chunk)` for each chunk of `size` items of `out` (`start`
/// being the chunk's first position), on every core.
pub(crate) fn fill_chunks<U: Send>(out: &mut [U], size: usize, f: impl Fn(usize, &mut [U]) + Sync + Send) {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        out.par_chunks_mut(size)
            .enumerate()
            .for_each(|(k, chunk)| f(k * size, chunk));
    }
    #[cfg(not(feature = "parallel"))]
    for (k, chunk) in out.chunks_mut(size).enumerate() {
        f(k * size, chunk);
    }
}

/// Sorts on every core (unstable: equal items may move).
pub(crate) fn sort_unstable_by<T: Send>(items: &mut [T], cmp: impl Fn(&T, &T) -> std::cmp::Ordering + Sync) {
    #[cfg(feature = "parallel")]
    {
        use rayon::slice::ParallelSliceMut;
        items.par_sort_unstable_by(cmp);
    }
    #[cfg(not(feature = "parallel"))]
    items.sort_unstable_by(cmp);
}

/// How many threads the work above runs on.
pub(crate) fn threads() -> usize {
    #[cfg(feature = "parallel")]
    {
        rayon::current_num_threads()
    }
    #[cfg(not(feature = "parallel"))]
    {
        1
    }
}

/// The fewest items a parallel task takes: a few dozen tasks per thread,
/// so that millions of tiny items are not split one by one.
#[cfg(feature = "parallel")]
fn min_len(n: usize) -> usize {
    (n / (rayon::current_num_threads() * 64)).max(1)
}
