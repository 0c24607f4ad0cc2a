//! `amzpay faults`: sandbox faults on demand (product.md, "Fault injection"), through the
//! SDK's test helper calls, printing the JSON answers. The next requests of the merchant
//! fail with 429, 503 or 500, or wait first, so that retry and timeout handling can be
//! tried against a running server.

use amzpay_sdk::*;
use clap::{ArgGroup, Subcommand, ValueEnum};

use crate::api::{Connection, print};

#[derive(Subcommand, Debug)]
pub enum FaultsCommand {
    /// Make the next --count matching requests fail with --reason-code, or only wait
    /// --delay-ms and then run (without --reason-code). Test helpers never fail.
    #[command(group(ArgGroup::new("fault").required(true).multiple(true).args(["reason_code", "delay_ms"])))]
    Add {
        /// The error to answer with (429, 503, 500); leave it out to only delay.
        #[arg(long, value_enum)]
        reason_code: Option<FaultReasonCodeArg>,
        /// How many requests, 1 to 1,000.
        #[arg(long)]
        count: u32,
        /// Only this operation, by Amazon's name (CreateCharge, GetChargePermission, ...);
        /// repeatable. Default: every operation.
        #[arg(long = "operation", value_name = "NAME")]
        operations: Vec<String>,
        /// Wait this long before answering, 0 to 60,000 ms.
        #[arg(long)]
        delay_ms: Option<u32>,
    },
    /// This merchant's active faults, oldest first.
    List,
    /// Remove every fault of this merchant; prints the faults removed.
    Clear,
}

/// The reason codes a fault answers with, named as Amazon names them.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FaultReasonCodeArg {
    /// 429.
    #[value(name = "TooManyRequests")]
    TooManyRequests,
    /// 503.
    #[value(name = "ServiceUnavailable")]
    ServiceUnavailable,
    /// 500.
    #[value(name = "InternalServerError")]
    InternalServerError,
}

impl From<FaultReasonCodeArg> for FaultReasonCode {
    fn from(arg: FaultReasonCodeArg) -> FaultReasonCode {
        match arg {
            FaultReasonCodeArg::TooManyRequests => FaultReasonCode::TooManyRequests,
            FaultReasonCodeArg::ServiceUnavailable => FaultReasonCode::ServiceUnavailable,
            FaultReasonCodeArg::InternalServerError => FaultReasonCode::InternalServerError,
        }
    }
}

pub async fn run(connection: &Connection, command: FaultsCommand) -> anyhow::Result<()> {
    let client = connection.client()?;
    match command {
        FaultsCommand::Add { reason_code, count, operations, delay_ms } => {
            // clap's group makes one of --reason-code and --delay-ms required.
            let mut request = match (reason_code, delay_ms) {
                (Some(code), _) => AddFaultRequest::error(code.into(), count),
                (None, delay) => AddFaultRequest::delay(delay.unwrap_or_default(), count),
            };
            if let Some(delay) = delay_ms {
                request = request.delay_ms(delay);
            }
            for operation in operations {
                request = request.operation(operation);
            }
            print(client.add_fault(&request)).await
        }
        FaultsCommand::List => print(client.list_faults()).await,
        FaultsCommand::Clear => print(client.clear_faults()).await,
    }
}
