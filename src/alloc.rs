//! The allocator's settings for a long-running server.

/// Limits glibc's malloc to two arenas. By default glibc gives busy threads
/// arenas of their own (up to eight per core) and each keeps the memory freed
/// in it: the poller, parsing Redfish documents on every worker thread, peaked
/// at 167 MiB polling 2,000 BMCs, and at 130 MiB with two arenas, at the same
/// speed (the poll benchmark). Call it first thing in `main`, before threads start.
/// `MALLOC_ARENA_MAX` in the environment, read by glibc itself, wins: two
/// arenas cost the web pages 10-15% under concurrent load (pages benchmark).
pub fn limit_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes a malloc tunable; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Rust's allocations go to mimalloc rather than glibc's malloc (SQLite's
/// own still go to glibc, whose arenas [`limit_arenas`] limits). The poll
/// benchmark spent a quarter of the poller's CPU in glibc's malloc and free
/// (parsing Redfish JSON allocates many small maps and strings), and glibc
/// kept what seeding the database had freed: with mimalloc, CPU per BMC poll
/// fell 7-13% on a single-threaded runtime (not measurably on a
/// multi-threaded one) and the process held 45 MiB instead of 90 before the
/// fleet poll, though 134-142 against 107 MiB at its peak. Declared in the
/// library so the benches and tests measure the same.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
