//! The allocator's settings for a long-running server, built with the
//! `tuned-alloc` feature (on by default; see docs/dependencies.md for why).
//! Without it, Rust and SQLite allocate from the system's malloc, untuned,
//! and SQLite keeps its memory statistics.

/// The allocators' settings for a long-running process: mimalloc purges at
/// once ([`purge_at_once`]), no memory is in transparent huge pages
/// ([`no_huge_pages`]) and glibc's malloc, left to C code, gets two
/// arenas. Call it first thing in `main`, before threads start.
///
/// Two arenas: by default glibc gives busy threads
/// arenas of their own (up to eight per core) and each keeps the memory freed
/// in it: the poller, parsing Redfish documents on every worker thread, peaked
/// at 167 MiB polling 2,000 BMCs, and at 130 MiB with two arenas, at the same
/// speed (the poll benchmark). `MALLOC_ARENA_MAX` in the environment, read by glibc itself, wins: two
/// arenas cost the web pages 10-15% under concurrent load (pages benchmark).
pub fn tune() {
    purge_at_once();
    no_huge_pages();
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes a malloc tunable; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// `mi_option_purge_delay` in the mimalloc that `libmimalloc-sys` 0.1.49
/// builds (its 15th option in both its v2 and v3 headers; the crate's
/// bindings do not name it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc returns freed memory to the system at once rather than after
/// its default delay (1,000 ms in the v3 built here; its header says 10,
/// which earlier notes repeated): with SQLite on mimalloc too, the poller peaked at 151 MiB polling
/// 2,000 BMCs, and at 126 MiB purging at once, with no measurable cost to
/// CPU per poll or to the pages (poll and pages benchmarks).
/// `MIMALLOC_PURGE_DELAY` in the environment, read by mimalloc itself, wins.
fn purge_at_once() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: sets one of mimalloc's tunables, read when it next purges.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
}

/// `mi_option_allow_thp` in the mimalloc that `libmimalloc-sys` 0.1.49
/// builds (its 44th option in its v3 header; v3 is the crate's default and
/// what is built here; a unit test checks the number against the defaults).
const MI_OPTION_ALLOW_THP: libmimalloc_sys::mi_option_t = 43;

/// No transparent huge pages for this process, as mimalloc does at start
/// when `MIMALLOC_ALLOW_THP=0`: where the system gives them on `madvise`,
/// mimalloc asks for them, and purging at once then frees and faults in 2 MiB
/// pages, each zeroed whole (`clear_page_erms` was 10% of the poll
/// benchmark's CPU, 16% of SQLite's threads). Without them (2026-12-03):
/// peak RSS polling 2,000 BMCs 94 to 56 MiB, under the pages load 79-80 to
/// 57-58 MiB, with CPU per poll and the pages' latency the same within the
/// machine's noise. `MIMALLOC_ALLOW_THP` in the environment wins.
fn no_huge_pages() {
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_some() {
        return;
    }
    // SAFETY: sets one of mimalloc's tunables (read when it next maps memory).
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ALLOW_THP, 0) };
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_THP_DISABLE only sets a flag of this process.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// Rust's allocations go to mimalloc rather than glibc's malloc (SQLite's
/// too, see [`sqlite_on_mimalloc`]; other C code still uses glibc, whose
/// arenas [`tune`] limits). The poll
/// benchmark spent a quarter of the poller's CPU in glibc's malloc and free
/// (parsing Redfish JSON allocates many small maps and strings), and glibc
/// kept what seeding the database had freed: with mimalloc, CPU per BMC poll
/// fell 7-13% on a single-threaded runtime (not measurably on a
/// multi-threaded one) and the process held 45 MiB instead of 90 before the
/// fleet poll, though 134-142 against 107 MiB at its peak. Declared in the
/// library so the benches and tests measure the same.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// SQLite's allocations go to mimalloc, without SQLite's memory statistics.
/// By default SQLite counts every allocation under one process-wide mutex
/// and allocates from glibc, limited to two arenas: with a connection per
/// worker thread, the pages benchmark spent about a fifth of the server's
/// CPU in futexes and glibc's malloc on SQLite's threads. Nothing here reads
/// SQLite's statistics. Runs once, before the first connection
/// ([`crate::db::Db::connect`] calls it): once SQLite has started, it refuses
/// both settings (`SQLITE_MISUSE`) and keeps its own, so memory from two
/// allocators is never mixed. `RACKLEDGER_SQLITE_MALLOC=libc` keeps SQLite
/// on the C library (statistics still off): 3,488 against 4,400 rack
/// elevations per second at a fifth of the pages benchmark's data, 122
/// against 126 MiB polling 2,000 BMCs.
pub fn sqlite_on_mimalloc() {
    use std::ffi::{c_int, c_void};

    use libmimalloc_sys as mi;
    use libsqlite3_sys as sq;

    unsafe extern "C" fn x_malloc(n: c_int) -> *mut c_void {
        // SAFETY: mimalloc accepts any size; SQLite never asks for a negative one.
        unsafe { mi::mi_malloc(n.max(0) as usize) }
    }
    unsafe extern "C" fn x_free(p: *mut c_void) {
        // SAFETY: `p` came from x_malloc or x_realloc (SQLite frees only its own).
        unsafe { mi::mi_free(p) }
    }
    unsafe extern "C" fn x_realloc(p: *mut c_void, n: c_int) -> *mut c_void {
        // SAFETY: as x_free; a null `p` allocates.
        unsafe { mi::mi_realloc(p, n.max(0) as usize) }
    }
    unsafe extern "C" fn x_size(p: *mut c_void) -> c_int {
        // SAFETY: as x_free.
        let n = unsafe { mi::mi_usable_size(p) };
        c_int::try_from(n).unwrap_or(c_int::MAX)
    }
    unsafe extern "C" fn x_roundup(n: c_int) -> c_int {
        // SAFETY: a pure function of the size.
        let n = unsafe { mi::mi_good_size(n.max(0) as usize) };
        c_int::try_from(n).unwrap_or(c_int::MAX)
    }
    unsafe extern "C" fn x_init(_: *mut c_void) -> c_int {
        sq::SQLITE_OK
    }
    unsafe extern "C" fn x_shutdown(_: *mut c_void) {}

    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: before SQLite starts, as for the allocator below.
        let memstatus = unsafe { sq::sqlite3_config(sq::SQLITE_CONFIG_MEMSTATUS, 0 as c_int) };
        if std::env::var("RACKLEDGER_SQLITE_MALLOC").as_deref() == Ok("libc") {
            tracing::debug!(memstatus, "SQLite allocates from the C library");
            return;
        }
        let methods = sq::sqlite3_mem_methods {
            xMalloc: Some(x_malloc),
            xFree: Some(x_free),
            xRealloc: Some(x_realloc),
            xSize: Some(x_size),
            xRoundup: Some(x_roundup),
            xInit: Some(x_init),
            xShutdown: Some(x_shutdown),
            pAppData: std::ptr::null_mut(),
        };
        // SAFETY: this runs before SQLite starts in this process (every
        // connection is opened through Db::connect, which calls this first; the
        // Once holds other callers until it is done). SQLite copies `methods`.
        let malloc = unsafe { sq::sqlite3_config(sq::SQLITE_CONFIG_MALLOC, &raw const methods) };
        if malloc != sq::SQLITE_OK || memstatus != sq::SQLITE_OK {
            tracing::debug!(
                malloc,
                memstatus,
                "SQLite had started: its allocator is left as it was"
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use libmimalloc_sys as mi;
    use libsqlite3_sys as sq;

    #[test]
    fn tune_purges_at_once_and_turns_huge_pages_off() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some()
            || std::env::var_os("MIMALLOC_ALLOW_THP").is_some()
        {
            return; // the environment's settings win, by design
        }
        // The options by their number, as mimalloc's defaults show them
        // (a wrong number would change another option).
        // SAFETY: reads mimalloc's tunables.
        let before = unsafe {
            (
                mi::mi_option_get(super::MI_OPTION_PURGE_DELAY),
                mi::mi_option_get(super::MI_OPTION_ALLOW_THP),
            )
        };
        assert_eq!(
            before,
            (1000, 1),
            "mimalloc's defaults for purge_delay and allow_thp"
        );
        super::tune();
        // SAFETY: reads mimalloc's tunables and this process's THP flag.
        let after = unsafe {
            (
                mi::mi_option_get(super::MI_OPTION_PURGE_DELAY),
                mi::mi_option_get(super::MI_OPTION_ALLOW_THP),
                libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0),
            )
        };
        assert_eq!(after, (0, 0, 1));
    }

    #[tokio::test]
    async fn sqlite_allocates_from_mimalloc_and_keeps_no_statistics() {
        if std::env::var("RACKLEDGER_SQLITE_MALLOC").as_deref() == Ok("libc") {
            return; // the switch under which SQLite keeps the C library's malloc
        }
        let db = crate::db::Db::connect("sqlite::memory:")
            .await
            .expect("open");
        let one: i64 =
            crate::on!(&db, |p| sqlx::query_scalar("select 1").fetch_one(p).await).expect("query");
        assert_eq!(one, 1);
        // SAFETY: a block SQLite allocates is checked and handed back to it.
        let (ours, counted) = unsafe {
            let p = sq::sqlite3_malloc(4096);
            assert!(!p.is_null());
            let ours = mi::mi_is_in_heap_region(p);
            sq::sqlite3_free(p);
            (ours, sq::sqlite3_memory_used())
        };
        assert!(ours, "SQLite's block is not mimalloc's");
        assert_eq!(counted, 0, "SQLite still counts its memory");
    }
}
