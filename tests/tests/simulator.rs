//! `scripts/simulate-chargers`, the demo and load generator, against the EV platform: it
//! makes its stations and the driver's tag over REST, its charge points charge over OCPP
//! (1.6J and 2.0.1), and each session it reports ends in one of the driver's invoices.

use std::time::Duration;

use joule_tests::charge_point::{OCPP16, OCPP201, ocpp_url, python};
use joule_tests::ev::get;
use joule_tests::{Joule, eventually, repo_root};

#[tokio::test]
async fn simulated_chargers_charge_and_every_session_is_invoiced() {
    let joule = Joule::platform().await;
    let operator = joule.token("sim-operator", &["operator"]);
    for (protocol, prefix, driver, tag) in [(OCPP16, "SIM16", "sim-ada", "51A0A0A0"), (OCPP201, "SIM201", "sim-bob", "51B0B0B0")] {
        let driver_token = joule.token(driver, &["driver"]);
        let mut command = tokio::process::Command::new(python());
        command.arg(repo_root().join("scripts/simulate_chargers.py")).args([
            "--url", &ocpp_url(&joule.url("")), "--api", &joule.url(""), "--protocol", protocol, "--prefix", prefix,
            "--tag", tag, "--chargers", "2", "--sessions", "2", "--charge-for", "2", "--meter-every", "1",
            "--park-for", "1", "--pause", "0.5", "--operator-token", &operator, "--driver-token", &driver_token,
        ]);
        let output = tokio::time::timeout(Duration::from_secs(120), command.output()).await.expect("the simulator finished").unwrap();
        let report = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{protocol}: the simulator failed:\n{report}\n{}", String::from_utf8_lossy(&output.stderr));
        assert!(report.contains("sessions: 4 started, 0 refused, 4 stopped"), "{protocol}:\n{report}");
        assert!(report.contains(", 0 answered with a CALLERROR or not at all"), "{protocol}:\n{report}");
        let invoices = format!("/api/v1/invoices?driverId={driver}");
        eventually(&format!("{driver}'s four invoices"), || async {
            get(&joule, &invoices).await.1["items"].as_array().is_some_and(|items| items.len() == 4)
        })
        .await;
    }
}
