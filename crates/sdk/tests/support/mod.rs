//! What the SDK's tests share: a `Sleeper` that records each wait instead of sleeping, so
//! retry delays are asserted, not waited for.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use amzpay_sdk::Sleeper;

/// Records every wait instead of sleeping.
#[derive(Default)]
pub struct RecordingSleeper(pub Mutex<Vec<Duration>>);

impl Sleeper for RecordingSleeper {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        self.0.lock().unwrap().push(duration);
        Box::pin(async {})
    }
}
