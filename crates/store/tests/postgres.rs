//! What only the PostgreSQL backend has: durability settings read back, migrations run
//! once however many nodes start at once (and a database from a newer amzpay refused), and
//! writes serialized across stores on one database, as several nodes' are. Runs on the
//! server `AMZPAY_TEST_DATABASE_URL` names (`scripts/test` starts one); fails without it.

use std::sync::Arc;

use amzpay_domain::Timestamp;
use amzpay_store::postgres::{MINIMUM_MAJOR_VERSION, PostgresStore};
use amzpay_store::*;

fn fresh_database(tag: &str) -> String {
    amzpay_store::postgres::create_test_database(&format!("amzpay_pg_{tag}")).unwrap()
}

#[tokio::test]
async fn every_connection_commits_durably_on_a_supported_server() {
    let url = fresh_database("settings");
    let store = PostgresStore::open(&url).unwrap();
    let settings = store.server_settings().unwrap();
    assert_eq!(
        (settings.fsync.as_str(), settings.synchronous_commit.as_str(), settings.full_page_writes.as_str()),
        ("on", "on", "on")
    );
    assert!(settings.major_version >= MINIMUM_MAJOR_VERSION, "{settings:?}");
}

/// Three nodes start at once on an empty database: the schema is made once (the others
/// wait on the lock and find nothing to do), and `migrate` afterwards runs nothing.
#[tokio::test]
async fn migrations_run_once_under_the_lock_and_a_newer_schema_is_refused() {
    let url = fresh_database("migrate");
    let opens: Vec<_> = (0..3)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || PostgresStore::open(&url).map(|_| ()))
        })
        .collect();
    for open in opens {
        open.join().unwrap().unwrap();
    }
    assert_eq!(PostgresStore::migrate(&url).unwrap(), 0, "nothing left to run");
    amzpay_store::postgres::execute_raw(&url, "INSERT INTO amzpay_migrations (version) VALUES (1000)").unwrap();
    let refused = PostgresStore::open(&url).err().expect("a schema from a newer amzpay");
    assert!(matches!(refused, StoreError::Corrupt(ref message) if message.contains("newer")), "{refused}");
}

/// Two stores on one database, as two nodes: each of many concurrent writes reads the
/// clock's offset and writes it plus one. Writes serialized across the stores lose none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_of_two_stores_on_one_database_are_serialized() {
    const WRITES_PER_STORE: i64 = 150;
    let url = fresh_database("nodes");
    let nodes: Vec<Arc<dyn Store>> =
        (0..2).map(|_| Arc::new(PostgresStore::open(&url).unwrap()) as Arc<dyn Store>).collect();
    let mut writes = tokio::task::JoinSet::new();
    for node in &nodes {
        for _ in 0..WRITES_PER_STORE {
            let node = node.clone();
            writes.spawn(async move {
                node.write(|tx| -> Result<(), StoreError> {
                    let clock = tx.clock("M1")?;
                    tx.set_clock("M1", SandboxClock { offset_seconds: clock.offset_seconds + 1, frozen_at: None })
                })
                .await
            });
        }
    }
    while let Some(done) = writes.join_next().await {
        done.unwrap().unwrap();
    }
    let clock = nodes[1].read(|tx| tx.clock("M1")).await.unwrap();
    assert_eq!(clock, SandboxClock { offset_seconds: 2 * WRITES_PER_STORE, frozen_at: None });
    // And a job claimed on one node is claimed on none other.
    nodes[0]
        .write(|tx| {
            tx.insert_job(&Job {
                id: 0,
                merchant_id: "M1".into(),
                environment: amzpay_domain::Environment::Sandbox,
                kind: JobKind::ResolveAuthorization,
                object_id: "a".into(),
                due_at: Timestamp::from_unix_seconds(1),
            })
        })
        .await
        .unwrap();
    let id = nodes[1].read(|tx| tx.due_jobs(Timestamp::from_unix_seconds(10), None, 1)).await.unwrap()[0]
        .as_ref()
        .unwrap()
        .id;
    let mut claims = tokio::task::JoinSet::new();
    for node in nodes.iter().cycle().take(6) {
        let node = node.clone();
        claims.spawn(async move { node.write(move |tx| tx.claim_job(id, Timestamp::from_unix_seconds(2))).await });
    }
    let mut won = 0;
    while let Some(claimed) = claims.join_next().await {
        won += usize::from(claimed.unwrap().unwrap());
    }
    assert_eq!(won, 1, "one claim wins");
}
