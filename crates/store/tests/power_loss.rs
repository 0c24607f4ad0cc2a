//! A power cut, simulated: every file SQLite opens goes through a VFS that forwards to the
//! real one and, at each `fsync` (`xSync`), remembers the file's contents as what has
//! reached the disk. A "power cut" image holds, for each file, only what its last `fsync`
//! made durable; writes since are lost, as the page cache is. Opening that image shows what
//! a power loss at that instant would leave.
//!
//! This tells `synchronous=FULL` from `OFF` or `NORMAL`, which a SIGKILL cannot (the page
//! cache survives a killed process): a control connection with `synchronous=OFF` loses its
//! committed row in the image. It models the disk as honouring `fsync`, and takes a new
//! file's name as durable once created (directory entries are not modelled).
//!
//! The shim is registered as SQLite's default VFS for this test binary only.

use std::collections::HashMap;
use std::ffi::{CStr, c_int};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use amzpay_domain::charge_permission::NewPermission;
use amzpay_domain::sandbox::SandboxCard;
use amzpay_domain::*;
use amzpay_store::Store;
use amzpay_store::sqlite::SqliteStore;
use rusqlite::ffi;

/// What each file held at its last `fsync`.
static DURABLE: Mutex<Option<HashMap<PathBuf, Vec<u8>>>> = Mutex::new(None);
static REAL_VFS: AtomicPtr<ffi::sqlite3_vfs> = AtomicPtr::new(std::ptr::null_mut());
/// Where, in a file handle, the shim keeps its own [`Tracked`] (after the real handle).
static TRACKED_OFFSET: AtomicUsize = AtomicUsize::new(0);
/// Each real I/O method table met (the main file and the WAL have different ones), with
/// the shim's copy of it: (real, shim's), as addresses.
static TABLES: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

/// What the shim keeps in a file handle.
#[repr(C)]
struct Tracked {
    /// Null for a file without a name (not tracked).
    path: *mut PathBuf,
    real_methods: *const ffi::sqlite3_io_methods,
}

fn tracked(file: *mut ffi::sqlite3_file) -> *mut Tracked {
    // SAFETY: the shim's `szOsFile` makes every handle `TRACKED_OFFSET` bytes plus a `Tracked`.
    unsafe { file.cast::<u8>().add(TRACKED_OFFSET.load(Ordering::SeqCst)).cast::<Tracked>() }
}

/// The shim's copy of a real table, with `xSync` and `xClose` wrapped; made on first use.
fn shim_table(real: *const ffi::sqlite3_io_methods) -> *const ffi::sqlite3_io_methods {
    let mut tables = TABLES.lock().unwrap();
    if let Some((_, ours)) = tables.iter().find(|(r, _)| *r == real as usize) {
        return *ours as *const ffi::sqlite3_io_methods;
    }
    // SAFETY: the real table lives as long as the process.
    let mut copy = unsafe { *real };
    copy.xSync = Some(shim_sync);
    copy.xClose = Some(shim_close);
    let ours = Box::leak(Box::new(copy)) as *const ffi::sqlite3_io_methods;
    tables.push((real as usize, ours as usize));
    ours
}

unsafe extern "C" fn shim_open(
    _shim: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let real = REAL_VFS.load(Ordering::SeqCst);
    // SAFETY: forwarding SQLite's own arguments to the VFS the shim wraps.
    let rc = unsafe { ((*real).xOpen.expect("xOpen"))(real, name, file, flags, out_flags) };
    // SAFETY: after a successful open, `pMethods` is the real VFS's table.
    let methods = unsafe { (*file).pMethods };
    if rc != ffi::SQLITE_OK || methods.is_null() {
        return rc;
    }
    let path = if name.is_null() {
        std::ptr::null_mut()
    } else {
        // SAFETY: `name` is a NUL-terminated path SQLite keeps while the file is open.
        let path = unsafe { CStr::from_ptr(name) }.to_str().expect("a UTF-8 path");
        Box::into_raw(Box::new(PathBuf::from(path)))
    };
    // SAFETY: the slot is inside the handle SQLite allocated (`szOsFile`); the handle is
    // ours to describe until `xClose`.
    unsafe {
        tracked(file).write(Tracked { path, real_methods: methods });
        (*file).pMethods = shim_table(methods);
    }
    rc
}

unsafe extern "C" fn shim_sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    // SAFETY: set in `shim_open`, freed only in `shim_close`; forwarding to the real method
    // with the handle it made.
    unsafe {
        let Tracked { path, real_methods } = tracked(file).read();
        let rc = ((*real_methods).xSync.expect("xSync"))(file, flags);
        if rc == ffi::SQLITE_OK && !path.is_null() {
            let path = &*path;
            if let Ok(contents) = std::fs::read(path) {
                DURABLE.lock().unwrap().get_or_insert_with(HashMap::new).insert(path.clone(), contents);
            }
        }
        rc
    }
}

unsafe extern "C" fn shim_close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: set in `shim_open`; the path is freed once, here.
    unsafe {
        let Tracked { path, real_methods } = tracked(file).read();
        if !path.is_null() {
            drop(Box::from_raw(path));
        }
        ((*real_methods).xClose.expect("xClose"))(file)
    }
}

/// Registers the shim as the default VFS, once.
fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        // SAFETY: SQLite's documented VFS registration; the shim lives for the process.
        unsafe {
            let real = ffi::sqlite3_vfs_find(std::ptr::null());
            assert!(!real.is_null());
            REAL_VFS.store(real, Ordering::SeqCst);
            let offset = ((*real).szOsFile as usize).next_multiple_of(std::mem::align_of::<Tracked>());
            TRACKED_OFFSET.store(offset, Ordering::SeqCst);
            let mut shim = *real;
            shim.zName = c"power-cut".as_ptr();
            shim.szOsFile = (offset + std::mem::size_of::<Tracked>()) as c_int;
            shim.xOpen = Some(shim_open);
            shim.pNext = std::ptr::null_mut();
            let rc = ffi::sqlite3_vfs_register(Box::leak(Box::new(shim)), 1);
            assert_eq!(rc, ffi::SQLITE_OK);
        }
    });
}

/// What a power cut now would leave of `files` in `from`, written into `to`: each file as
/// of its last `fsync`, or absent if it never had one.
fn power_cut(from: &Path, to: &Path, files: &[&str]) {
    let durable = DURABLE.lock().unwrap();
    for name in files {
        if let Some(contents) = durable.as_ref().and_then(|d| d.get(&from.join(name))) {
            std::fs::write(to.join(name), contents).unwrap();
        }
    }
}

fn permission() -> ChargePermission {
    let new = NewPermission {
        kind: PermissionType::OneTime,
        amount_limit: Some(Money::from_minor(10_000, Currency::Usd)),
        currency: None,
        recurring_metadata: None,
        merchant_metadata: None,
        payment_method: SandboxCard::parse("4444").unwrap(),
        buyer: None,
        shipping_address: None,
        billing_address: None,
        platform_id: None,
        extend_expiration: false,
        setup_only: None,
    };
    let id = ChargePermissionId::generate(Environment::Sandbox, Region::Na, 5, 6);
    ChargePermission::create(id, Environment::Sandbox, Region::Na, new, Timestamp::from_unix_seconds(1_705_320_000))
        .unwrap()
}

const DATABASE: &str = "amzpay.db";
const FILES: [&str; 2] = ["amzpay.db", "amzpay.db-wal"];

#[tokio::test]
async fn a_write_whose_result_has_arrived_survives_a_power_cut_at_that_instant() {
    install();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join(DATABASE)).unwrap());
    let p = permission();
    let saved = p.clone();
    store.write(move |tx| tx.insert_permission("M1", &saved)).await.unwrap();

    // The instant the result arrived (the server would answer now): cut the power.
    let image = tempfile::tempdir().unwrap();
    power_cut(dir.path(), image.path(), &FILES);
    let recovered: Arc<dyn Store> = Arc::new(SqliteStore::open(&image.path().join(DATABASE)).unwrap());
    let id = p.id.clone();
    let found = recovered.read(move |tx| tx.permission("M1", Environment::Sandbox, &id)).await.unwrap();
    assert_eq!(found, Some(p));
    drop(store);
}

/// The control: the simulation does lose what was committed without an `fsync`, so the
/// test above would fail if the store committed without one.
#[test]
fn without_synchronous_full_a_committed_row_is_lost_in_the_same_power_cut() {
    install();
    let dir = tempfile::tempdir().unwrap();
    let connection = rusqlite::Connection::open(dir.path().join(DATABASE)).unwrap();
    connection.pragma_update(None, "journal_mode", "WAL").unwrap();
    connection.pragma_update(None, "synchronous", "FULL").unwrap();
    connection.execute_batch("CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1);").unwrap();
    connection.pragma_update(None, "synchronous", "OFF").unwrap();
    connection.execute("INSERT INTO t VALUES (2)", []).unwrap();

    let image = tempfile::tempdir().unwrap();
    power_cut(dir.path(), image.path(), &FILES);
    let recovered = rusqlite::Connection::open(image.path().join(DATABASE)).unwrap();
    let rows: Vec<i64> = recovered
        .prepare("SELECT n FROM t ORDER BY n")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows, [1], "the row committed with synchronous=FULL survives; the one with OFF does not");
    drop(connection);
}
