//! Data parallelism for the stages and targets: items mapped on a few threads, results in item
//! order, so output never depends on the scheduling or the number of threads.

/// The threads to use for `items` items: `requested`, or with 0 what the machine offers (at
/// most 8); at least one, and never more than there are items.
pub fn threads_for(requested: usize, items: usize) -> usize {
    let machine = || std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let threads = if requested == 0 { machine() } else { requested };
    threads.clamp(1, items.max(1))
}

/// Maps every item with `f` on [`threads_for`]`(threads, items.len())` threads, each taking a
/// contiguous run of the items; returns the results in item order.
pub fn map<I: Send, T: Send>(items: Vec<I>, threads: usize, f: impl Fn(I) -> T + Sync) -> Vec<T> {
    map_with(items, threads, || (), |(), item| f(item))
}

/// [`map`] with a state each thread makes once with `state` and passes to every call (a
/// compressor, buffers), so nothing is shared between threads.
pub fn map_with<I: Send, S, T: Send>(
    items: Vec<I>,
    threads: usize,
    state: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, I) -> T + Sync,
) -> Vec<T> {
    let runs = map_runs(items, threads, |run| {
        let mut s = state();
        run.into_iter().map(|item| f(&mut s, item)).collect::<Vec<T>>()
    });
    runs.into_iter().flatten().collect()
}

/// Splits the items into [`threads_for`]`(threads, items.len())` contiguous runs of about the
/// same length, maps each whole run with `f` on a thread of its own (the first on the calling
/// thread) and returns the results in run order.
fn map_runs<I: Send, T: Send>(items: Vec<I>, threads: usize, f: impl Fn(Vec<I>) -> T + Sync) -> Vec<T> {
    let threads = threads_for(threads, items.len());
    if threads == 1 {
        return vec![f(items)];
    }
    // Split from the end, so that every item moves once.
    let chunk = items.len().div_ceil(threads);
    let mut runs = Vec::with_capacity(threads);
    let mut rest = items;
    while rest.len() > chunk {
        let last = (rest.len() - 1) / chunk * chunk;
        runs.push(rest.split_off(last));
    }
    runs.reverse();
    // The calling thread maps the first run itself: one thread fewer to start, and its
    // allocator reuses the memory that earlier stages freed on it, which a new thread cannot.
    std::thread::scope(|scope| {
        let workers: Vec<_> = runs.into_iter().map(|run| scope.spawn(|| f(run))).collect();
        let mut results = vec![f(rest)];
        results.extend(workers.into_iter().map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))));
        results
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_item_order_on_any_number_of_threads() {
        let items: Vec<usize> = (0..1000).collect();
        let expected: Vec<usize> = items.iter().map(|i| i * 3).collect();
        for threads in [1, 2, 3, 7, 8, 2000] {
            assert_eq!(map(items.clone(), threads, |i| i * 3), expected, "{threads} threads");
        }
        assert!(map(Vec::<usize>::new(), 4, |i| i).is_empty());
    }

    #[test]
    fn each_thread_keeps_its_own_state() {
        // Each thread numbers the items it sees from 0: one thread sees them all in order.
        let seen = map_with((0..10).collect::<Vec<usize>>(), 1, || 0, |n, _| std::mem::replace(n, *n + 1));
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        let seen = map_with((0..10).collect::<Vec<usize>>(), 2, || 0, |n, _| std::mem::replace(n, *n + 1));
        assert_eq!(seen, [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
    }

    #[test]
    fn runs_are_contiguous_and_in_order() {
        let runs = map_runs((0..10).collect::<Vec<usize>>(), 3, |run| run);
        assert_eq!(runs, [vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9]]);
        assert_eq!(map_runs(Vec::<usize>::new(), 3, |run| run.len()), [0]);
    }

    #[test]
    fn thread_counts_are_bounded_by_the_items() {
        assert_eq!(threads_for(4, 2), 2);
        assert_eq!(threads_for(4, 0), 1);
        assert_eq!(threads_for(3, 100), 3);
        assert!((1..=8).contains(&threads_for(0, 100)));
    }
}
