//! The store keeps what it is given, scoped to merchant and environment, and a failed job
//! leaves no trace: on both backends, from this one source. Each test is an `async fn`
//! taking the database it runs on; `on_both!` at the end makes it a test on SQLite (a
//! fresh file) and one on PostgreSQL (a fresh database on the server
//! `AMZPAY_TEST_DATABASE_URL` names, which `scripts/test` starts). Without that variable the
//! PostgreSQL tests fail: they never pass unrun.

use std::sync::Arc;

use amzpay_domain::charge::{self, CaptureCharge, ChargeCreation, CreateCharge};
use amzpay_domain::charge_permission::NewPermission;
use amzpay_domain::metadata::{
    Address, Buyer, FrequencyUnit, MerchantMetadata, OpaqueJson, RecurringMetadata, SoftDescriptor, WebCheckoutDetails,
};
use amzpay_domain::refund::{self, CreateRefund};
use amzpay_domain::sandbox::{AuthorizationOutcome, SandboxCard};
use amzpay_domain::*;
use amzpay_store::postgres::PostgresStore;
use amzpay_store::sqlite::SqliteStore;
use amzpay_store::*;

const T0: Timestamp = Timestamp::from_unix_seconds(1_705_320_000);

/// The database one test runs on; `open` may be called again to reopen it.
enum Db {
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

impl Db {
    fn sqlite() -> Db {
        Db::Sqlite(tempfile::tempdir().unwrap())
    }

    /// A fresh database of its own on the test server.
    fn postgres() -> Db {
        Db::Postgres(amzpay_store::postgres::create_test_database("amzpay_store").unwrap())
    }

    fn open(&self) -> Arc<dyn Store> {
        match self {
            Db::Sqlite(dir) => Arc::new(SqliteStore::open(&dir.path().join("amzpay.db")).unwrap()),
            Db::Postgres(url) => Arc::new(PostgresStore::open(url).unwrap()),
        }
    }

    /// Diagnostics of a second store on the same database.
    async fn jobs_for_object(&self, object_id: &str) -> Vec<(Job, Option<Timestamp>)> {
        match self {
            Db::Sqlite(dir) => {
                SqliteStore::open(&dir.path().join("amzpay.db")).unwrap().jobs_for_object(object_id).await.unwrap()
            }
            Db::Postgres(url) => PostgresStore::open(url).unwrap().jobs_for_object(object_id).await.unwrap(),
        }
    }

    /// Runs SQL outside the store (to damage a row).
    fn execute_raw(&self, sql: &str) {
        match self {
            Db::Sqlite(dir) => {
                rusqlite::Connection::open(dir.path().join("amzpay.db")).unwrap().execute_batch(sql).unwrap()
            }
            Db::Postgres(url) => amzpay_store::postgres::execute_raw(url, sql).unwrap(),
        }
    }

    fn read_connections(&self) -> usize {
        match self {
            Db::Sqlite(_) => amzpay_store::sqlite::READ_CONNECTIONS,
            Db::Postgres(_) => amzpay_store::postgres::READ_CONNECTIONS,
        }
    }
}

fn permission(kind: PermissionType) -> ChargePermission {
    let new = NewPermission {
        kind,
        amount_limit: (kind == PermissionType::OneTime).then_some(Money::from_minor(10_000, Currency::Usd)),
        currency: None,
        recurring_metadata: (kind == PermissionType::Recurring).then_some(RecurringMetadata {
            frequency: Some((FrequencyUnit::Month, 1)),
            amount: Some(Money::from_minor(999, Currency::Usd)),
        }),
        merchant_metadata: Some(MerchantMetadata {
            merchant_reference_id: Some("order-1".into()),
            note_to_buyer: Some("thanks".into()),
            ..Default::default()
        }),
        payment_method: SandboxCard::parse("4444").unwrap(),
        buyer: Some(Buyer {
            buyer_id: "b1".into(),
            name: "Ann".into(),
            email: "ann@example.com".into(),
            phone_number: None,
        }),
        shipping_address: Some(Address {
            name: Some("Ann".into()),
            address_line1: Some("1 Main St".into()),
            county: Some("King".into()),
            country_code: Some("US".into()),
            ..Default::default()
        }),
        billing_address: Some(Address { name: Some("Ann B".into()), ..Default::default() }),
        platform_id: Some("platform".into()),
        extend_expiration: false,
        setup_only: Some(true),
    };
    ChargePermission::create(
        ChargePermissionId::generate(Environment::Sandbox, Region::Na, 42, 43),
        Environment::Sandbox,
        Region::Na,
        new,
        T0,
    )
    .unwrap()
}

/// A Create Charge of `minor` US cents, with nothing else set.
fn charge_request(minor: i64, capture_now: bool) -> CreateCharge {
    CreateCharge {
        amount: Money::from_minor(minor, Currency::Usd),
        capture_now,
        soft_descriptor: None,
        can_handle_pending_authorization: false,
        merchant_metadata: None,
        provider_reference_id: None,
        platform_id: None,
        charge_initiator: None,
        channel: None,
        web_checkout_details: None,
    }
}

/// A charge approved on `p` and a refund of USD 1.00 on it.
fn charge_and_refund(p: &mut ChargePermission, request: CreateCharge) -> (Box<Charge>, Refund) {
    let ChargeCreation::Created(mut c) = charge::create_charge(p, request, AuthorizationOutcome::Approved, T0).unwrap()
    else {
        panic!("the charge is created")
    };
    let refund =
        CreateRefund { amount: Money::from_minor(100, Currency::Usd), soft_descriptor: None, simulated_decline: None };
    let r = refund::create_refund(p, &mut c, refund, T0).unwrap();
    (c, r)
}

/// Stores a permission, its charge and the charge's refund as merchant M1's.
async fn save_for_m1(store: &Arc<dyn Store>, p: &ChargePermission, c: &Charge, r: &Refund) {
    let (p, c, r) = (p.clone(), c.clone(), r.clone());
    store
        .write(move |tx| -> Result<(), StoreError> {
            tx.insert_permission("M1", &p)?;
            tx.save_charge("M1", &c)?;
            tx.save_refund("M1", &r)
        })
        .await
        .unwrap();
}

async fn objects_round_trip_exactly_and_are_scoped_to_merchant_and_environment(db: Db) {
    let store = db.open();
    let mut p = permission(PermissionType::Recurring);
    let request = CreateCharge {
        amount: Money::from_minor(500, Currency::Usd),
        capture_now: true,
        soft_descriptor: Some(SoftDescriptor::parse("Shop").unwrap()),
        can_handle_pending_authorization: false,
        merchant_metadata: None,
        provider_reference_id: Some("psp-1".into()),
        platform_id: None,
        charge_initiator: None,
        channel: None,
        web_checkout_details: Some(WebCheckoutDetails {
            checkout_result_return_url: Some("https://shop.example/mfa".into()),
            ..Default::default()
        }),
    };
    let (mut c, r) = charge_and_refund(&mut p, request);
    c.atypical_activity = true;
    save_for_m1(&store, &p, &c, &r).await;
    let (id, cid, rid) = (p.id.clone(), c.id.clone(), r.id.clone());
    let (lp, lc, lr, other_merchant, other_env) = store
        .read(move |tx| -> Result<_, StoreError> {
            Ok((
                tx.permission("M1", Environment::Sandbox, &id)?,
                tx.charge("M1", Environment::Sandbox, &cid)?,
                tx.refund("M1", Environment::Sandbox, &rid)?,
                tx.permission("M2", Environment::Sandbox, &id)?,
                tx.charge("M1", Environment::Live, &cid)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(lp, Some(p));
    assert_eq!(lc, Some(*c));
    assert_eq!(lr, Some(r));
    assert_eq!(other_merchant, None);
    assert_eq!(other_env, None);
}

async fn a_save_naming_another_merchant_or_environment_cannot_overwrite_an_object(db: Db) {
    let store = db.open();
    let mut p = permission(PermissionType::OneTime);
    let request = charge_request(500, true);
    let (c, r) = charge_and_refund(&mut p, request);
    save_for_m1(&store, &p, &c, &r).await;

    // Each write below names an id that is M1's in sandbox, for M2 or for live: each must
    // be refused and leave M1's object exactly as it was.
    let mut changed_p = p.clone();
    changed_p.captured = Money::from_minor(0, Currency::Usd);
    changed_p.charges_created += 7;
    let mut changed_c = (*c).clone();
    changed_c.refunded = Money::from_minor(0, Currency::Usd);
    let mut changed_r = r.clone();
    changed_r.amount = Money::from_minor(1, Currency::Usd);
    let mut live_c = changed_c.clone();
    live_c.environment = Environment::Live;
    let mut live_p = changed_p.clone();
    live_p.environment = Environment::Live;
    type Attempt = Box<dyn FnOnce(&mut dyn WriteTx) -> Result<(), StoreError> + Send>;
    let attempts: Vec<(&str, Attempt)> = vec![
        ("update_permission by M2", Box::new(move |tx| tx.update_permission("M2", &changed_p))),
        ("update_permission in live", Box::new(move |tx| tx.update_permission("M1", &live_p))),
        ("save_charge by M2", Box::new(move |tx| tx.save_charge("M2", &changed_c))),
        ("save_charge in live", Box::new(move |tx| tx.save_charge("M1", &live_c))),
        ("save_refund by M2", Box::new(move |tx| tx.save_refund("M2", &changed_r))),
    ];
    for (what, attempt) in attempts {
        let result = store.write(attempt).await;
        assert!(matches!(result, Err(StoreError::OutOfScope(_))), "{what}: {result:?}");
    }
    // An update of an id that exists nowhere is refused too (an update is not an insert).
    let mut absent = p.clone();
    absent.id = ChargePermissionId::generate(Environment::Sandbox, Region::Na, 99, 99);
    let result = store.write(move |tx| tx.update_permission("M1", &absent)).await;
    assert!(matches!(result, Err(StoreError::OutOfScope(_))), "{result:?}");

    let (id, cid, rid) = (p.id.clone(), c.id.clone(), r.id.clone());
    let found = store
        .read(move |tx| -> Result<_, StoreError> {
            Ok((
                tx.permission("M1", Environment::Sandbox, &id)?,
                tx.charge("M1", Environment::Sandbox, &cid)?,
                tx.refund("M1", Environment::Sandbox, &rid)?,
                tx.permission("M2", Environment::Sandbox, &id)?,
                tx.charge("M1", Environment::Live, &cid)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(found, (Some(p), Some(*c), Some(r), None, None));
}

async fn a_failed_job_rolls_back_only_its_own_writes_and_commits_survive_reopening(db: Db) {
    let store = db.open();
    let mut one_time = permission(PermissionType::OneTime);
    let mut tasks = Vec::new();
    for n in 0..20u32 {
        let store = store.clone();
        let mut p = one_time.clone();
        p.id = ChargePermissionId::generate(Environment::Sandbox, Region::Na, n, n);
        tasks.push(tokio::spawn(async move {
            store
                .write(move |tx| -> Result<(), StoreError> {
                    tx.insert_permission("M1", &p)?;
                    if n % 2 == 1 {
                        // Written, then refused: the savepoint must undo the insert.
                        return Err(StoreError::IdTaken("a refused job's".into()));
                    }
                    Ok(())
                })
                .await
        }));
    }
    for (n, task) in tasks.into_iter().enumerate() {
        assert_eq!(task.await.unwrap().is_ok(), n % 2 == 0);
    }
    // A duplicate id is a conflict, not an overwrite.
    one_time.id = ChargePermissionId::generate(Environment::Sandbox, Region::Na, 0, 0);
    let duplicate = one_time.clone();
    let result = store.write(move |tx| tx.insert_permission("M1", &duplicate)).await;
    assert!(matches!(result, Err(StoreError::IdTaken(_))));
    drop(store);
    let reopened = db.open();
    let found = reopened
        .read(|tx| -> Result<Vec<bool>, StoreError> {
            (0..20u32)
                .map(|n| {
                    Ok(tx
                        .permission(
                            "M1",
                            Environment::Sandbox,
                            &ChargePermissionId::generate(Environment::Sandbox, Region::Na, n, n),
                        )?
                        .is_some())
                })
                .collect()
        })
        .await
        .unwrap();
    assert_eq!(found, (0..20).map(|n| n % 2 == 0).collect::<Vec<_>>());
}

async fn open_charges_idempotency_records_and_events_are_kept(db: Db) {
    let store = db.open();
    let mut p = permission(PermissionType::OneTime);
    let mut charges = Vec::new();
    for _ in 0..3 {
        let request = charge_request(100, false);
        let ChargeCreation::Created(c) =
            charge::create_charge(&mut p, request, AuthorizationOutcome::Approved, T0).unwrap()
        else {
            panic!()
        };
        charges.push(c);
    }
    charge::capture(
        &mut p,
        &mut charges[1],
        CaptureCharge { amount: Money::from_minor(100, Currency::Usd), soft_descriptor: None },
        T0,
    )
    .unwrap();
    let (p2, c2) = (p.clone(), charges.clone());
    let record = IdempotencyRecord {
        merchant_id: "M1".into(),
        environment: Environment::Sandbox,
        key: "k1".into(),
        scope: "CaptureCharge S01-0000000-0000001-C000001".into(),
        fingerprint: "f".into(),
        status: 201,
        body: b"{\"a\":1}".to_vec(),
        created_at: T0,
    };
    let record2 = record.clone();
    let other_scope = IdempotencyRecord { scope: "CreateCharge ".into(), fingerprint: "g".into(), ..record.clone() };
    let other_scope2 = other_scope.clone();
    let event = Event {
        notification_id: "n-1".into(),
        message_id: "m-1".into(),
        merchant_id: "M1".into(),
        environment: Environment::Sandbox,
        object_type: ObjectType::Charge,
        object_id: charges[1].id.to_string(),
        charge_permission_id: p.id.to_string(),
        notification_type: NotificationType::StateChange,
        created_at: T0,
    };
    let event2 = event.clone();
    store
        .write(move |tx| -> Result<(), StoreError> {
            tx.insert_permission("M1", &p2)?;
            for c in &c2 {
                tx.save_charge("M1", c)?;
            }
            tx.insert_idempotency(&record2)?;
            // The same key in another scope is another record (spec §8).
            tx.insert_idempotency(&other_scope2)?;
            tx.set_ipn_endpoint("M1", Environment::Sandbox, Some("http://a.example/ipn"))?;
            tx.insert_event(&event2)
        })
        .await
        .unwrap();
    let id = p.id.clone();
    let (open, stored, stored_other, unscoped, events) = store
        .read(move |tx| -> Result<_, StoreError> {
            Ok((
                tx.open_charges("M1", Environment::Sandbox, &id)?,
                tx.idempotency("M1", Environment::Sandbox, "CaptureCharge S01-0000000-0000001-C000001", "k1")?,
                tx.idempotency("M1", Environment::Sandbox, "CreateCharge ", "k1")?,
                tx.idempotency("M1", Environment::Sandbox, "CreateRefund ", "k1")?,
                tx.notifications("M1", Environment::Sandbox, 10)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(stored_other, Some(other_scope));
    assert_eq!(unscoped, None);
    assert_eq!(
        open.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
        vec![charges[0].id.clone(), charges[2].id.clone()]
    );
    assert_eq!(stored, Some(record));
    assert_eq!(events.iter().map(|n| &n.event).collect::<Vec<_>>(), vec![&event]);
    assert_eq!(events[0].status, DeliveryStatus::Pending, "a new notification is due at once");
}

async fn merchants_and_keys_are_stored(db: Db) {
    let store = db.open();
    let merchant = new_merchant("AMZPAYDEV01", Region::Eu, "amzn1.application-oa2-client.0123", T0);
    let key = KeyRecord {
        public_key_id: "SANDBOX-ABC".into(),
        merchant_id: "AMZPAYDEV01".into(),
        environment: Some(Environment::Sandbox),
        public_key_pem: "pem".into(),
        created_at: T0,
    };
    let legacy = KeyRecord { public_key_id: "ABC".into(), environment: None, ..key.clone() };
    let (m2, k2, l2) = (merchant.clone(), key.clone(), legacy.clone());
    store
        .write(move |tx| -> Result<(), StoreError> {
            tx.insert_merchant(&m2)?;
            tx.insert_key(&k2)?;
            tx.insert_key(&l2)
        })
        .await
        .unwrap();
    let found = store
        .read(|tx| -> Result<_, StoreError> {
            Ok((tx.merchant("AMZPAYDEV01")?, tx.key("SANDBOX-ABC")?, tx.key("ABC")?, tx.key("nope")?))
        })
        .await
        .unwrap();
    assert_eq!(found, (Some(merchant), Some(key), Some(legacy), None));
}

async fn jobs_fall_due_on_their_merchants_clock_and_run_once(db: Db) {
    let store = db.open();
    let job = |merchant: &str, environment, object: &str, due: i64| Job {
        id: 0,
        merchant_id: merchant.into(),
        environment,
        kind: JobKind::ResolveAuthorization,
        object_id: object.into(),
        due_at: Timestamp::from_unix_seconds(due),
    };
    let jobs = vec![
        job("M1", Environment::Sandbox, "a", 1_000),
        job("M1", Environment::Sandbox, "b", 1_100),
        job("M2", Environment::Sandbox, "c", 1_000),
        job("M1", Environment::Live, "d", 1_000),
    ];
    store
        .write(move |tx| -> Result<(), StoreError> {
            for job in &jobs {
                tx.insert_job(job)?;
            }
            // M1's sandbox clock runs 150 seconds ahead; live follows real time.
            tx.set_clock("M1", SandboxClock { offset_seconds: 150, frozen_at: None })
        })
        .await
        .unwrap();
    let due = |merchant: Option<&'static str>| {
        let store = store.clone();
        async move {
            store
                .read(move |tx| tx.due_jobs(Timestamp::from_unix_seconds(960), merchant, 10))
                .await
                .unwrap()
                .into_iter()
                .map(|j| j.unwrap().object_id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(due(None).await, ["a", "b"], "at real 960, M1's sandbox is at 1110");
    assert_eq!(due(Some("M2")).await, Vec::<String>::new());
    let clock = store.read(|tx| tx.clock("M1")).await.unwrap();
    assert_eq!(clock, SandboxClock { offset_seconds: 150, frozen_at: None });
    assert_eq!(store.read(|tx| tx.clock("M9")).await.unwrap(), SandboxClock { offset_seconds: 0, frozen_at: None });
    store
        .write(|tx| {
            tx.set_clock("M2", SandboxClock { offset_seconds: 0, frozen_at: Some(Timestamp::from_unix_seconds(1_000)) })
        })
        .await
        .unwrap();
    assert_eq!(due(Some("M2")).await, ["c"], "a frozen clock decides alone");
    let first =
        store.read(|tx| tx.due_jobs(Timestamp::from_unix_seconds(960), None, 1)).await.unwrap()[0].as_ref().unwrap().id;
    let claims = store
        .write(move |tx| -> Result<(bool, bool), StoreError> {
            Ok((
                tx.claim_job(first, Timestamp::from_unix_seconds(1)).unwrap(),
                tx.claim_job(first, Timestamp::from_unix_seconds(2))?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(claims, (true, false), "a job is claimed once");
    assert_eq!(due(None).await, ["c", "b"], "M2's frozen clock stands at 1000");
    let history = db.jobs_for_object("a").await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].1, Some(Timestamp::from_unix_seconds(1)));
}

async fn checkout_sessions_round_trip_with_addresses(db: Db) {
    use amzpay_domain::checkout_session::*;
    let store = db.open();
    let new = NewSession {
        store_id: "amzn1.application-oa2-client.x".into(),
        process_order: false,
        kind: PermissionType::Recurring,
        fields: SessionUpdate {
            checkout_review_return_url: Some("https://shop.example/review".into()),
            checkout_result_return_url: Some("https://shop.example/result".into()),
            recurring_metadata: Some(RecurringMetadata {
                frequency: Some((FrequencyUnit::Month, 1)),
                amount: Some(Money::from_minor(999, Currency::Usd)),
            }),
            payment_details: Some(PaymentDetails {
                payment_intent: Some(PaymentIntent::AuthorizeWithCapture),
                charge_amount: Some(Money::from_minor(999, Currency::Usd)),
                soft_descriptor: Some(SoftDescriptor::parse("Shop").unwrap()),
                can_handle_pending_authorization: Some(true),
                ..Default::default()
            }),
            merchant_metadata: Some(MerchantMetadata {
                merchant_reference_id: Some("o-1".into()),
                ..Default::default()
            }),
            platform_id: Some("platform".into()),
            provider_reference_id: Some("psp-order".into()),
            supplementary_data: Some(r#"{"k":"v"}"#.into()),
            ..Default::default()
        },
        setup_only: None,
        delivery_specifications: Some(OpaqueJson::new(r#"{"specialRestrictions":["RestrictPOBoxes"]}"#.into())),
        address_details: Some(Address {
            name: Some("Paul".into()),
            county: Some("Manhattan".into()),
            ..Default::default()
        }),
        renews_permission: None,
        checkout_button_text: Some("Pay now".into()),
    };
    let mut wallet = new.clone();
    wallet.kind = PermissionType::PaymentMethodOnFile;
    wallet.fields.recurring_metadata = None;
    wallet.fields.payment_details = Some(PaymentDetails {
        payment_intent: Some(PaymentIntent::Confirm),
        estimate_order_total: Some(Money::from_minor(4_200, Currency::Usd)),
        ..Default::default()
    });
    wallet.setup_only = Some(false);
    wallet.renews_permission = Some(ChargePermissionId::generate(Environment::Sandbox, Region::Na, 7, 8));
    let wallet = CheckoutSession::create(
        "8c1f7e52-0000-4000-8000-000000000002".into(),
        Environment::Sandbox,
        Region::Na,
        wallet,
        T0,
    )
    .unwrap();
    let wallet_saved = wallet.clone();
    let wallet_other = wallet.clone();
    store.write(move |tx| tx.save_checkout_session("M1", &wallet_saved)).await.unwrap();
    // Another merchant's save of the same id is refused; M1's session stays as saved.
    let refused = store.write(move |tx| tx.save_checkout_session("M2", &wallet_other)).await;
    assert!(matches!(refused, Err(StoreError::OutOfScope(_))), "{refused:?}");
    let wallet_id = wallet.id.clone();
    let found_wallet = store.read(move |tx| tx.checkout_session("M1", Environment::Sandbox, &wallet_id)).await.unwrap();
    assert_eq!(found_wallet, Some(wallet));
    let mut session = CheckoutSession::create(
        "8c1f7e52-0000-4000-8000-000000000001".into(),
        Environment::Sandbox,
        Region::Na,
        new,
        T0,
    )
    .unwrap();
    let address = Address {
        name: Some("Ann".into()),
        address_line1: Some("1 Main St".into()),
        city: Some("Seattle".into()),
        country_code: Some("US".into()),
        ..Default::default()
    };
    let buyer =
        Buyer { buyer_id: "b1".into(), name: "Ann".into(), email: "ann@example.com".into(), phone_number: None };
    session.sign_in(buyer, Some(address), SandboxCard::parse("0701").unwrap(), T0).unwrap();
    let saved = session.clone();
    store.write(move |tx| tx.save_checkout_session("M1", &saved)).await.unwrap();
    let id = session.id.clone();
    let (found, other, by_id) = store
        .read(move |tx| -> Result<_, StoreError> {
            Ok((
                tx.checkout_session("M1", Environment::Sandbox, &id)?,
                tx.checkout_session("M2", Environment::Sandbox, &id)?,
                tx.sandbox_checkout_session_by_id(&id)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(found, Some(session.clone()));
    assert_eq!(other, None);
    assert_eq!(by_id, Some(("M1".to_owned(), session)));
}

fn event(n: u32, merchant: &str) -> Event {
    Event {
        notification_id: format!("n-{merchant}-{n}"),
        message_id: format!("m-{merchant}-{n}"),
        merchant_id: merchant.into(),
        environment: Environment::Sandbox,
        object_type: ObjectType::ChargePermission,
        object_id: format!("S01-0000000-000000{n}"),
        charge_permission_id: format!("S01-0000000-000000{n}"),
        notification_type: NotificationType::StateChange,
        created_at: T0,
    }
}

async fn notifications_are_leased_once_fairly_and_keep_every_attempt(db: Db) {
    let store = db.open();
    store
        .write(|tx| -> Result<(), StoreError> {
            tx.set_ipn_endpoint("M1", Environment::Sandbox, Some("http://a.example/ipn"))?;
            tx.set_ipn_endpoint("M1", Environment::Sandbox, Some("http://b.example/ipn"))?;
            tx.set_ipn_endpoint("M2", Environment::Sandbox, Some("http://c.example/ipn"))?;
            tx.set_ipn_endpoint("M3", Environment::Live, Some("http://d.example/ipn"))?;
            for n in 0..5 {
                tx.insert_event(&event(n, "M1"))?;
            }
            tx.insert_event(&event(0, "M2"))?;
            // M3 has an endpoint in live only: its sandbox notification cannot be sent.
            tx.insert_event(&event(0, "M3"))
        })
        .await
        .unwrap();
    let endpoints = store
        .read(|tx| -> Result<_, StoreError> {
            Ok((
                tx.ipn_endpoint("M1", Environment::Sandbox)?,
                tx.ipn_endpoint("M1", Environment::Live)?,
                tx.ipn_endpoint("M3", Environment::Sandbox)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(endpoints, (Some("http://b.example/ipn".into()), None, None), "per merchant and environment");
    let unsendable = store.read(|tx| tx.notifications("M3", Environment::Sandbox, 10)).await.unwrap();
    assert_eq!(unsendable.len(), 1);
    assert_eq!(unsendable[0].status, DeliveryStatus::NoEndpoint, "staged as the worker would mark it");

    // Two of each merchant at most: M1's backlog does not hide M2's notification.
    let due = store.read(|tx| tx.due_notifications(1_000, 2, 100)).await.unwrap();
    let ids: Vec<_> = due.iter().map(|n| n.event.notification_id.as_str()).collect();
    assert_eq!(ids, ["n-M1-0", "n-M1-1", "n-M2-0"]);

    let leases = store
        .write(|tx| -> Result<_, StoreError> {
            Ok((
                tx.lease_notification("n-M1-0", 1_000, 11_000)?,
                tx.lease_notification("n-M1-0", 1_000, 11_000)?,
                tx.lease_notification("n-nobody", 1_000, 11_000)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(leases, (true, false, false), "a notification is leased to one deliverer");
    let due = store.read(|tx| tx.due_notifications(1_000, 10, 100)).await.unwrap();
    assert!(!due.iter().any(|n| n.event.notification_id == "n-M1-0"), "a leased one is not due");
    let due = store.read(|tx| tx.due_notifications(11_000, 10, 100)).await.unwrap();
    assert!(due.iter().any(|n| n.event.notification_id == "n-M1-0"), "an expired lease frees it (a crashed deliverer)");

    let failed = Attempt {
        at_ms: 1_000,
        url: "http://b.example/ipn".into(),
        status_code: Some(500),
        error: None,
        latency_ms: 3,
    };
    let delivered = Attempt { at_ms: 12_000, status_code: Some(200), ..failed.clone() };
    store
        .write({
            let (failed, delivered) = (failed.clone(), delivered.clone());
            move |tx| -> Result<bool, StoreError> {
                tx.finish_attempt(
                    "n-M1-0",
                    &AttemptOutcome {
                        attempt: Some(failed),
                        status: DeliveryStatus::Pending,
                        next_attempt_ms: Some(11_000),
                    },
                )?;
                assert!(!tx.lease_notification("n-M1-0", 10_999, 20_000)?, "not due before its retry");
                assert!(tx.lease_notification("n-M1-0", 11_000, 20_000)?);
                tx.finish_attempt(
                    "n-M1-0",
                    &AttemptOutcome {
                        attempt: Some(delivered),
                        status: DeliveryStatus::Delivered,
                        next_attempt_ms: None,
                    },
                )?;
                tx.lease_notification("n-M1-0", 99_000, 100_000)
            }
        })
        .await
        .map(|leased| assert!(!leased, "a delivered notification is never due again"))
        .unwrap();
    let logged = store.read(|tx| tx.notification("M1", Environment::Sandbox, "n-M1-0")).await.unwrap().unwrap();
    assert_eq!(logged.status, DeliveryStatus::Delivered);
    assert_eq!(logged.attempts, vec![failed, delivered]);
    assert_eq!(logged.first_attempt_ms, Some(1_000));
    assert_eq!(store.read(|tx| tx.notification("M2", Environment::Sandbox, "n-M1-0")).await.unwrap(), None);

    let redelivered = store
        .write(|tx| -> Result<_, StoreError> {
            Ok((
                tx.redeliver("M2", Environment::Sandbox, "n-M1-0", 50_000)?,
                tx.redeliver("M1", Environment::Sandbox, "n-M1-0", 50_000)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(redelivered, (false, true), "only its merchant redelivers it");
    let again = store.read(|tx| tx.notification("M1", Environment::Sandbox, "n-M1-0")).await.unwrap().unwrap();
    assert_eq!(
        (again.status, again.next_attempt_ms, again.first_attempt_ms),
        (DeliveryStatus::Pending, Some(50_000), None)
    );
    assert_eq!(again.attempts.len(), 2, "the log keeps earlier attempts");
    let newest_first = store.read(|tx| tx.notifications("M1", Environment::Sandbox, 2)).await.unwrap();
    let ids: Vec<_> = newest_first.iter().map(|n| n.event.notification_id.as_str()).collect();
    assert_eq!(ids, ["n-M1-4", "n-M1-3"]);
}

async fn the_first_sns_signing_key_stored_is_the_one_kept(db: Db) {
    let store = db.open();
    assert!(store.read(|tx| tx.sns_signing_key()).await.unwrap().is_none());
    let key = |pem: &str| SnsSigningKey { private_key_pem: pem.into(), certificate_pem: "cert".into(), created_at: T0 };
    let (first, second) = (key("first"), key("second"));
    store.write(move |tx| tx.insert_sns_signing_key(&first)).await.unwrap();
    store.write(move |tx| tx.insert_sns_signing_key(&second)).await.unwrap();
    let kept = store.read(|tx| tx.sns_signing_key()).await.unwrap().unwrap();
    assert_eq!(kept.private_key_pem, "first");
    assert!(!format!("{kept:?}").contains("first"), "the key never prints");
}

fn job(merchant: &str, object: &str, due: i64) -> Job {
    Job {
        id: 0,
        merchant_id: merchant.into(),
        environment: Environment::Sandbox,
        kind: JobKind::ExpirePermission,
        object_id: object.into(),
        due_at: Timestamp::from_unix_seconds(due),
    }
}

/// A job row this version cannot read (an unknown kind) comes back in its place, as such,
/// instead of failing the whole query; once failed it is kept with its error and is due no
/// more, and the jobs behind it are.
async fn an_unreadable_job_is_returned_in_its_place_and_a_failed_job_is_kept_with_its_error(db: Db) {
    let store = db.open();
    store
        .write(|tx| -> Result<(), StoreError> {
            tx.insert_job(&job("M1", "bad", 1_000))?;
            tx.insert_job(&job("M1", "good", 1_001))?;
            tx.insert_job(&job("M2", "other", 1_002))?;
            tx.set_clock("M1", SandboxClock { offset_seconds: 0, frozen_at: Some(Timestamp::from_unix_seconds(5_000)) })
        })
        .await
        .unwrap();
    // As a newer version (or a damaged file) might have left it.
    db.execute_raw("UPDATE jobs SET kind = 'NoSuchKind' WHERE object_id = 'bad'");
    let now = Timestamp::from_unix_seconds(2_000);
    let due = store.read(move |tx| tx.due_jobs(now, None, 10)).await.unwrap();
    assert_eq!(due.len(), 3, "{due:?}");
    let bad = due[0].clone().expect_err("the unknown kind");
    assert!(bad.error.contains("NoSuchKind"), "{bad:?}");
    assert_eq!((bad.merchant_id.as_str(), bad.due_at), ("M1", Timestamp::from_unix_seconds(1_000)));
    assert_eq!(due[1].as_ref().unwrap().object_id, "good");
    let until =
        store.read(|tx| tx.due_sandbox_jobs_until("M1", Timestamp::from_unix_seconds(1_000), 10)).await.unwrap();
    assert_eq!(until.len(), 1, "only M1's, only up to the instant given: {until:?}");

    let bad_id = bad.id;
    let failed = store
        .write(move |tx| -> Result<(bool, bool), StoreError> {
            Ok((tx.fail_job(bad_id, bad.due_at, &bad.error)?, tx.fail_job(bad_id, bad.due_at, "again")?))
        })
        .await
        .unwrap();
    assert_eq!(failed, (true, false), "a job fails once");
    let due = store.read(move |tx| tx.due_jobs(now, None, 10)).await.unwrap();
    let objects: Vec<String> = due.into_iter().map(|j| j.unwrap().object_id).collect();
    assert_eq!(objects, ["good", "other"]);
    let shown = store.read(|tx| tx.failed_jobs(Some("M1"), 10)).await.unwrap();
    assert_eq!(shown.len(), 1);
    let shown = &shown[0];
    assert_eq!(
        (shown.id, shown.kind.as_str(), shown.object_id.as_str(), shown.environment.as_str(), shown.attempts),
        (bad_id, "NoSuchKind", "bad", "sandbox", 1)
    );
    assert!(shown.error.contains("NoSuchKind"), "{shown:?}");
    assert!(store.read(|tx| tx.failed_jobs(Some("M2"), 10)).await.unwrap().is_empty());
    assert_eq!(store.read(|tx| tx.failed_jobs(None, 10)).await.unwrap().len(), 1);
}

/// Work in a savepoint: kept, rolled back alone, or rolled back alone after a panic, and
/// the transaction around it goes on and commits.
async fn isolated_work_rolls_back_alone_even_when_it_panics(db: Db) {
    let store = db.open();
    let outcomes = store
        .write(|tx| -> Result<Vec<Isolated>, StoreError> {
            let mut outcomes = Vec::new();
            for (object, keep) in [("kept", Some(true)), ("refused", Some(false)), ("panicked", None)] {
                outcomes.push(tx.isolated(&mut |tx| {
                    tx.insert_job(&job("M1", object, 1)).unwrap();
                    keep.unwrap_or_else(|| panic!("a bug in {object}"))
                })?);
            }
            tx.insert_job(&job("M1", "after", 1))?;
            Ok(outcomes)
        })
        .await
        .unwrap();
    assert_eq!(outcomes, [Isolated::Kept, Isolated::RolledBack, Isolated::Panicked("a bug in panicked".into())]);
    let due = store.read(|tx| tx.due_jobs(Timestamp::from_unix_seconds(10), None, 10)).await.unwrap();
    let objects: Vec<String> = due.into_iter().map(|j| j.unwrap().object_id).collect();
    assert_eq!(objects, ["kept", "after"]);
}

/// A write job that panics answers its caller with an error, rolls back its own writes only
/// (not those of the jobs committed beside it) and the writer serves the next jobs.
async fn a_panicking_write_answers_an_error_and_the_writer_serves_on(db: Db) {
    let store = db.open();
    let mut writes = Vec::new();
    for n in 0..20 {
        let store = store.clone();
        writes.push(tokio::spawn(async move {
            store
                .write(move |tx| -> Result<(), StoreError> {
                    tx.insert_job(&job("M1", &format!("job-{n}"), 1))?;
                    if n % 2 == 1 {
                        panic!("write {n} panics");
                    }
                    Ok(())
                })
                .await
        }));
    }
    for (n, write) in writes.into_iter().enumerate() {
        match (n % 2, write.await.unwrap()) {
            (0, Ok(())) => {}
            (1, Err(StoreError::Panicked(message))) => assert_eq!(message, format!("write {n} panics")),
            (_, other) => panic!("write {n}: {other:?}"),
        }
    }
    // A raw job that panics (no catching of its own) does not stop the writer either.
    let raw: WriteJob = Box::new(|_| panic!("a raw job panics"));
    store.submit_write(raw).unwrap();
    store.write(|tx| tx.insert_job(&job("M1", "later", 1))).await.unwrap();
    let due = store.read(|tx| tx.due_jobs(Timestamp::from_unix_seconds(10), None, 100)).await.unwrap();
    let mut objects: Vec<String> = due.into_iter().map(|j| j.unwrap().object_id).collect();
    objects.sort();
    let mut expected: Vec<String> = (0..20).step_by(2).map(|n| format!("job-{n}")).collect();
    expected.push("later".into());
    expected.sort();
    assert_eq!(objects, expected, "the panicking jobs' writes alone are gone");
}

/// More reads panic than the pool has connections; each answers an error, and afterwards as
/// many reads as there are connections still run at once.
async fn panicking_reads_answer_an_error_and_lose_no_connection(db: Db) {
    let store = db.open();
    for n in 0..3 * db.read_connections() {
        let result = store.read(move |_| -> Result<(), StoreError> { panic!("read {n} panics") }).await;
        assert!(matches!(result, Err(StoreError::ReadFailed(_))), "{result:?}");
    }
    // All connections at once: a lost one would leave a read with none.
    let barrier = Arc::new(std::sync::Barrier::new(db.read_connections()));
    let mut reads = Vec::new();
    for _ in 0..db.read_connections() {
        let (store, barrier) = (store.clone(), barrier.clone());
        reads.push(tokio::spawn(async move {
            store
                .read(move |tx| {
                    barrier.wait();
                    tx.clock("M1")
                })
                .await
        }));
    }
    for read in reads {
        assert_eq!(read.await.unwrap().unwrap(), SandboxClock { offset_seconds: 0, frozen_at: None });
    }
}

fn fault(id: &str, merchant: &str, count: u32, operations: Option<&[&str]>) -> Fault {
    Fault {
        fault_id: id.to_owned(),
        merchant_id: merchant.to_owned(),
        environment: Environment::Sandbox,
        reason_code: Some(ReasonCode::ServiceUnavailable),
        count,
        remaining: count,
        operations: operations.map(|names| names.iter().map(|n| (*n).to_owned()).collect()),
        delay_ms: 250,
        created_at: T0,
    }
}

async fn faults_are_kept_in_order_used_up_one_request_at_a_time_and_survive_reopening(db: Db) {
    let store = db.open();
    let first = fault("f1", "M1", 2, Some(&["CreateCharge", "GetCharge"]));
    let second = Fault { reason_code: None, ..fault("f2", "M1", 1, None) };
    let (a, b, other) = (first.clone(), second.clone(), fault("f3", "M2", 1, None));
    store
        .write(move |tx| -> Result<(), StoreError> {
            tx.insert_fault(&a)?;
            tx.insert_fault(&b)?;
            tx.insert_fault(&other)?;
            assert!(matches!(tx.insert_fault(&a), Err(StoreError::IdTaken(_))), "ids are unique");
            Ok(())
        })
        .await
        .unwrap();
    let listed = store.read(|tx| tx.faults("M1", Environment::Sandbox)).await.unwrap();
    assert_eq!(listed, vec![first.clone(), second.clone()], "round trip, oldest first");
    assert!(listed[0].applies_to("GetCharge") && !listed[0].applies_to("CreateRefund"));
    assert!(listed[1].applies_to("CreateRefund"), "no operations: every operation");
    assert_eq!(store.read(|tx| tx.faults("M1", Environment::Live)).await.unwrap(), vec![], "scoped by environment");
    let mut merchants = store.read(|tx| tx.merchants_with_faults(Environment::Sandbox)).await.unwrap();
    merchants.sort();
    assert_eq!(merchants, ["M1", "M2"]);

    let consumed = store
        .write(|tx| -> Result<_, StoreError> {
            Ok([
                tx.consume_fault("M2", Environment::Sandbox, "f1")?,
                tx.consume_fault("M1", Environment::Live, "f1")?,
                tx.consume_fault("M1", Environment::Sandbox, "f1")?,
            ])
        })
        .await
        .unwrap();
    assert_eq!(consumed, [false, false, true], "only its merchant and environment use a fault");
    drop(store);
    let store = db.open();
    let listed = store.read(|tx| tx.faults("M1", Environment::Sandbox)).await.unwrap();
    assert_eq!(listed[0].remaining, 1, "durable");
    let consumed = store
        .write(|tx| -> Result<_, StoreError> {
            Ok([
                tx.consume_fault("M1", Environment::Sandbox, "f1")?,
                tx.consume_fault("M1", Environment::Sandbox, "f1")?,
            ])
        })
        .await
        .unwrap();
    assert_eq!(consumed, [true, false], "the last request deletes it");
    assert_eq!(store.read(|tx| tx.faults("M1", Environment::Sandbox)).await.unwrap(), vec![second]);
    let cleared = store.write(|tx| tx.clear_faults("M1", Environment::Sandbox)).await.unwrap();
    assert_eq!(cleared, 1);
    assert_eq!(store.read(|tx| tx.merchants_with_faults(Environment::Sandbox)).await.unwrap(), ["M2"]);
}

#[tokio::test]
async fn every_connection_the_store_opens_has_wal_synchronous_full_foreign_keys_and_the_busy_timeout() {
    use amzpay_store::sqlite::{ConnectionRole, READ_CONNECTIONS, expected_settings};
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("amzpay.db")).unwrap();
    let settings = store.connection_settings().await.unwrap();
    let roles: Vec<ConnectionRole> = settings.iter().map(|(role, _)| *role).collect();
    let mut expected_roles = vec![ConnectionRole::Writer];
    expected_roles.extend((0..READ_CONNECTIONS).map(ConnectionRole::Reader));
    assert_eq!(roles, expected_roles, "the writer and every reader");
    for (role, in_force) in settings {
        // Spelled out, not only compared with what `configure` asks for: synchronous 2 is
        // FULL (1 NORMAL, 0 OFF), the setting that syncs the WAL at every commit.
        assert_eq!(in_force.journal_mode, "wal", "{role:?}");
        assert_eq!(in_force.synchronous, 2, "{role:?}");
        assert!(in_force.foreign_keys, "{role:?}");
        assert_eq!(in_force.busy_timeout_ms, 10_000, "{role:?}");
        assert_eq!(in_force, expected_settings(), "{role:?}");
    }
}

/// What a power cut leaves once a write's result has arrived (the moment the server
/// answers): the database file and its WAL as they are on disk then, without the shared
/// memory index and before any checkpoint. Opened elsewhere, that copy holds the write, and
/// the database file alone does not: the commit lives in the WAL frames the commit synced.
#[tokio::test]
async fn a_write_is_in_the_wal_on_disk_when_its_result_arrives_and_a_copy_taken_then_recovers_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("amzpay.db");
    // No background checkpoint may copy the write into the database file meanwhile.
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_without_background_checkpoints(&path).unwrap());
    let p = permission(PermissionType::OneTime);
    let saved = p.clone();
    store.write(move |tx| tx.insert_permission("M1", &saved)).await.unwrap();

    let copy = tempfile::tempdir().unwrap();
    let wal = std::fs::read(dir.path().join("amzpay.db-wal")).unwrap();
    assert!(!wal.is_empty(), "the commit is in the WAL, not checkpointed yet");
    std::fs::copy(&path, copy.path().join("amzpay.db")).unwrap();
    std::fs::write(copy.path().join("amzpay.db-wal"), &wal).unwrap();
    let only_database = tempfile::tempdir().unwrap();
    std::fs::copy(&path, only_database.path().join("amzpay.db")).unwrap();

    let find = |dir: &std::path::Path, p: &ChargePermission| {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.join("amzpay.db")).unwrap());
        let id = p.id.clone();
        async move { store.read(move |tx| tx.permission("M1", Environment::Sandbox, &id)).await.unwrap() }
    };
    assert_eq!(find(copy.path(), &p).await, Some(p.clone()), "recovered from the WAL copy");
    assert_eq!(find(only_database.path(), &p).await, None, "not in the database file alone");
    drop(store);
}

/// The checkpointer thread, not the writer, copies committed writes from the WAL into the
/// database file, soon after they commit: a copy of the database file alone comes to hold
/// the write while the store stays open (the writer's own backstop is thousands of pages
/// away, and closing would checkpoint on its own).
#[tokio::test]
async fn the_checkpointer_copies_a_committed_write_into_the_database_file_while_the_store_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("amzpay.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let p = permission(PermissionType::OneTime);
    let saved = p.clone();
    store.write(move |tx| tx.insert_permission("M1", &saved)).await.unwrap();

    // Bounded: the checkpointer runs within its interval (100 ms) of a commit.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let only_database = tempfile::tempdir().unwrap();
        std::fs::copy(&path, only_database.path().join("amzpay.db")).unwrap();
        let copy: Arc<dyn Store> = Arc::new(SqliteStore::open(&only_database.path().join("amzpay.db")).unwrap());
        let id = p.id.clone();
        let found = copy.read(move |tx| tx.permission("M1", Environment::Sandbox, &id)).await.unwrap();
        if found.is_some() {
            assert_eq!(found, Some(p.clone()));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the write never reached the database file");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    drop(store);
}

/// Retention deletes the jobs that ran, never one still due and never a failed one (kept
/// with its error for whoever looks into it).
async fn pruning_finished_jobs_keeps_failed_and_pending_ones(db: Db) {
    let store = db.open();
    store
        .write(|tx| -> Result<(), StoreError> {
            for object in ["ran", "failed", "pending"] {
                tx.insert_job(&job("M1", object, 1_000))?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let due = store.read(|tx| tx.due_jobs(Timestamp::from_unix_seconds(2_000), None, 10)).await.unwrap();
    let ids: Vec<(i64, String)> = due.into_iter().map(|j| j.unwrap()).map(|j| (j.id, j.object_id)).collect();
    let at = Timestamp::from_unix_seconds(1_500);
    store
        .write(move |tx| -> Result<(), StoreError> {
            for (id, object) in &ids {
                match object.as_str() {
                    "ran" => assert!(tx.claim_job(*id, at)?),
                    "failed" => assert!(tx.fail_job(*id, at, "a rule refused")?),
                    _ => {}
                }
            }
            Ok(())
        })
        .await
        .unwrap();
    // Every finished job is older than an hour from now (finished_at is real time).
    let later = Timestamp::from_unix_seconds(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 + 3_600,
    );
    let deleted = store.write(move |tx| tx.prune_finished_jobs(later, 100)).await.unwrap();
    assert_eq!(deleted, 1, "only the job that ran");
    let due = store.read(|tx| tx.due_jobs(Timestamp::from_unix_seconds(2_000), None, 10)).await.unwrap();
    let pending: Vec<String> = due.into_iter().map(|j| j.unwrap().object_id).collect();
    assert_eq!(pending, ["pending"]);
    let failed = store.read(|tx| tx.failed_jobs(None, 10)).await.unwrap();
    assert_eq!(failed.iter().map(|j| j.object_id.as_str()).collect::<Vec<_>>(), ["failed"]);
}

/// A one-time permission of id number `n`, created `n` minutes after T0.
fn permission_numbered(n: u32) -> ChargePermission {
    let mut p = permission(PermissionType::OneTime);
    p.id = ChargePermissionId::generate(Environment::Sandbox, Region::Na, n, n + 1);
    p.created_at = T0.plus_seconds(60 * i64::from(n));
    p
}

async fn dashboard_lists_are_newest_first_filtered_and_scoped(db: Db) {
    let store = db.open();
    let (first, mut second, third) = (permission_numbered(1), permission_numbered(2), permission_numbered(3));
    second.state = PermissionState::Closed { reason: None, description: None };
    let mut elsewhere = permission_numbered(4);
    elsewhere.environment = Environment::Live;
    let mut p = permission_numbered(5);
    let request = charge_request(500, true);
    let (c, r) = charge_and_refund(&mut p, request);
    let saved = [first.clone(), second.clone(), third.clone(), p.clone()];
    let (other, c2, r2) = (elsewhere.clone(), c.clone(), r.clone());
    store
        .write(move |tx| -> Result<(), StoreError> {
            for p in &saved {
                tx.insert_permission("M1", p)?;
            }
            tx.insert_permission("M1", &other)?;
            tx.save_charge("M1", &c2)?;
            tx.save_refund("M1", &r2)
        })
        .await
        .unwrap();
    let all = ObjectFilter { limit: 10, ..Default::default() };
    let closed = ObjectFilter { state: Some("Closed".into()), limit: 10, ..Default::default() };
    let by_id =
        ObjectFilter { id_contains: Some(third.id.as_str()[4..12].to_owned()), limit: 10, ..Default::default() };
    let two = ObjectFilter { limit: 2, ..Default::default() };
    let filters = [all.clone(), closed, by_id, two];
    let (lists, other_merchant, live, charges, refunds) = store
        .read(move |tx| -> Result<_, StoreError> {
            let mut lists = Vec::new();
            for filter in &filters {
                lists.push(tx.list_permissions("M1", Environment::Sandbox, filter)?);
            }
            Ok((
                lists,
                tx.list_permissions("M2", Environment::Sandbox, &all)?,
                tx.list_permissions("M1", Environment::Live, &all)?,
                tx.list_charges("M1", Environment::Sandbox, &all)?,
                tx.list_refunds("M1", Environment::Sandbox, &all)?,
            ))
        })
        .await
        .unwrap();
    let ids = |list: &[ChargePermission]| list.iter().map(|p| p.id.to_string()).collect::<Vec<_>>();
    let id = |p: &ChargePermission| p.id.to_string();
    assert_eq!(ids(&lists[0]), [id(&p), id(&third), id(&second), id(&first)]);
    assert_eq!(lists[0][2], second, "a listed object is the whole object");
    assert_eq!(ids(&lists[1]), [id(&second)]);
    assert_eq!(ids(&lists[2]), [id(&third)]);
    assert_eq!(ids(&lists[3]), [id(&p), id(&third)]);
    assert!(other_merchant.is_empty());
    assert_eq!(ids(&live), [id(&elsewhere)]);
    assert_eq!(charges, [*c]);
    assert_eq!(refunds, [r]);
}

async fn timelines_keep_each_change_in_order_with_its_cause(db: Db) {
    let store = db.open();
    let change = |merchant: &str, object: &str, state: &str, at: i64, cause: Cause, detail: &str| StateChange {
        merchant_id: merchant.to_owned(),
        environment: Environment::Sandbox,
        object_kind: ObjectKind::Charge,
        object_id: object.to_owned(),
        state: state.to_owned(),
        reason_code: (state == "Declined").then(|| "HardDeclined".to_owned()),
        at: T0.plus_seconds(at),
        cause,
        detail: detail.to_owned(),
    };
    let mine = vec![
        change("M1", "C1", "AuthorizationInitiated", 0, Cause::Api, "CreateCharge"),
        change("M1", "C1", "Declined", 30, Cause::Clock, "ResolveAuthorization"),
    ];
    let others = vec![
        change("M1", "C2", "Authorized", 10, Cause::Simulation, "AmzpayPending"),
        change("M2", "C1", "Captured", 5, Cause::Buyer, "Confirm"),
    ];
    let written = [mine.clone(), others].concat();
    store
        .write(move |tx| -> Result<(), StoreError> {
            for change in &written {
                tx.insert_state_change(change)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let (timeline, first, live, merchants) = store
        .read(|tx| -> Result<_, StoreError> {
            Ok((
                tx.state_changes("M1", Environment::Sandbox, "C1", 10)?,
                tx.state_changes("M1", Environment::Sandbox, "C1", 1)?,
                tx.state_changes("M1", Environment::Live, "C1", 10)?,
                tx.merchants(10)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(timeline, mine);
    assert_eq!(first, mine[..1]);
    assert!(live.is_empty());
    assert!(merchants.is_empty(), "{merchants:?}");
    for (id, at) in [("M2", 20), ("M1", 10)] {
        store
            .write(move |tx| tx.insert_merchant(&new_merchant(id, Region::Eu, "store", T0.plus_seconds(at))))
            .await
            .unwrap();
    }
    let merchants = store.read(|tx| tx.merchants(10)).await.unwrap();
    assert_eq!(merchants.iter().map(|m| m.merchant_id.as_str()).collect::<Vec<_>>(), ["M1", "M2"]);
}

async fn an_objects_notifications_are_found_among_the_merchants_latest(db: Db) {
    let store = db.open();
    store
        .write(|tx| -> Result<(), StoreError> {
            // Objects 1 and 2 in turns, then six of object 3; and object 1 of another merchant.
            for (seq, object) in [1, 2, 1, 2, 3, 3, 3, 3, 3, 3].into_iter().enumerate() {
                let mut e = event(object, "M1");
                e.notification_id = format!("n-{seq}");
                tx.insert_event(&e)?;
            }
            tx.insert_event(&event(1, "M2"))
        })
        .await
        .unwrap();
    let found = |object: u32, scanned: u32| {
        let store = store.clone();
        async move {
            let id = event(object, "M1").object_id;
            let list = store.read(move |tx| tx.object_notifications("M1", Environment::Sandbox, &id, scanned)).await;
            list.unwrap().into_iter().map(|n| n.event.notification_id).collect::<Vec<_>>()
        }
    };
    assert_eq!(found(1, 100).await, ["n-2", "n-0"], "newest first, its own only");
    assert_eq!(found(2, 100).await, ["n-3", "n-1"]);
    assert_eq!(found(1, 8).await, ["n-2"], "among the latest 8 only");
    assert_eq!(found(1, 7).await, Vec::<String>::new());
    assert_eq!(found(4, 100).await, Vec::<String>::new());
}

/// Every test above that takes a `Db`, on each backend.
macro_rules! on_both {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $test() {
                super::$test(super::Db::sqlite()).await
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $test() {
                super::$test(super::Db::postgres()).await
            })*
        }
    };
}

on_both!(
    objects_round_trip_exactly_and_are_scoped_to_merchant_and_environment,
    a_save_naming_another_merchant_or_environment_cannot_overwrite_an_object,
    a_failed_job_rolls_back_only_its_own_writes_and_commits_survive_reopening,
    open_charges_idempotency_records_and_events_are_kept,
    merchants_and_keys_are_stored,
    jobs_fall_due_on_their_merchants_clock_and_run_once,
    checkout_sessions_round_trip_with_addresses,
    notifications_are_leased_once_fairly_and_keep_every_attempt,
    the_first_sns_signing_key_stored_is_the_one_kept,
    an_unreadable_job_is_returned_in_its_place_and_a_failed_job_is_kept_with_its_error,
    isolated_work_rolls_back_alone_even_when_it_panics,
    a_panicking_write_answers_an_error_and_the_writer_serves_on,
    panicking_reads_answer_an_error_and_lose_no_connection,
    faults_are_kept_in_order_used_up_one_request_at_a_time_and_survive_reopening,
    pruning_finished_jobs_keeps_failed_and_pending_ones,
    dashboard_lists_are_newest_first_filtered_and_scoped,
    timelines_keep_each_change_in_order_with_its_cause,
    an_objects_notifications_are_found_among_the_merchants_latest,
);
